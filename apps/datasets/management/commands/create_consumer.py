from django.core.management.base import BaseCommand, CommandError

from apps.common.exceptions import ServiceError
from apps.datasets.services import consumer_create


class Command(BaseCommand):
    help = "Create a Learnosity Data API consumer; prints consumer_key=... and consumer_secret=... as the last lines."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name: str, **options):
        try:
            consumer = consumer_create(name=name)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"consumer_key={consumer.consumer_key}")
        self.stdout.write(f"consumer_secret={consumer.consumer_secret}")
