from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.common.exceptions import ServiceError
from apps.datasets.services import sessions_ingest


class Command(BaseCommand):
    help = (
        "Ingest assessment sessions from an NDJSON file (one session object a line: session_id, user_id, "
        "activity_id, score, max_score, attempted_max_score, unscored_max_score, status, dt_completed). All or "
        "nothing; idempotent on session_id."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with (
            path.open(encoding="utf-8") as lines,
            tqdm(desc="sessions", unit=" lines", disable=options["verbosity"] == 0) as progress,
        ):
            try:
                report = sessions_ingest(lines=lines, progress=progress.update)
            except ServiceError as exc:
                raise CommandError(exc.message) from exc
        self.stdout.write(f"lines={report.lines} added={report.added}")
