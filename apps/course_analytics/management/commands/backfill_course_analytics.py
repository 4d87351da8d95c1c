from datetime import date

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.course_analytics.services.rollups import BACKFILL_CHUNK_DAYS, course_analytics_backfill


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a YYYY-MM-DD date") from exc


class Command(BaseCommand):
    help = (
        "Run the course analytics rollups for every day from --from to --to (both included), oldest first, "
        f"{BACKFILL_CHUNK_DAYS} days per pass."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, type=_day)
        parser.add_argument("--to", dest="last", required=True, type=_day)

    def handle(self, *args, first: date, last: date, **options):
        if first > last:
            raise CommandError("--from is after --to")
        total = (last - first).days + 1
        with tqdm(total=total, desc="rollups", unit="day", disable=options["verbosity"] == 0) as progress:
            course_analytics_backfill(first=first, last=last, progress=progress.update)
        self.stdout.write(f"rolled up {total} day(s): {first} to {last}")
