from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.course_analytics.services.rollups import course_analytics_rollup


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a YYYY-MM-DD date") from exc


class Command(BaseCommand):
    help = "Run the course analytics rollups for every day from --from to --to (both included), oldest first."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, type=_day)
        parser.add_argument("--to", dest="last", required=True, type=_day)

    def handle(self, *args, first: date, last: date, **options):
        if first > last:
            raise CommandError("--from is after --to")
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        for day in tqdm(days, desc="rollups", unit="day", disable=options["verbosity"] == 0):
            course_analytics_rollup(day=day)
        self.stdout.write(f"rolled up {len(days)} day(s): {first} to {last}")
