from django.apps import apps
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string
from tqdm import tqdm


class Command(BaseCommand):
    help = (
        "Load demo data. Each app names its seeder in its AppConfig (`demo_seeder`); seeders run in app order and "
        "each is idempotent, so a second run adds nothing."
    )

    def handle(self, *args, **options):
        seeders = [
            (config.label, import_string(config.demo_seeder))
            for config in apps.get_app_configs()
            if getattr(config, "demo_seeder", None)
        ]
        with tqdm(total=len(seeders), desc="seed_demo", unit="app", disable=options["verbosity"] == 0) as progress:
            for label, seeder in seeders:
                progress.set_postfix_str(label)
                created = seeder(progress=progress)
                progress.write(f"{label}: {created} new rows")
                progress.update(1)
