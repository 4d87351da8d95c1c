from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.course_analytics.services.rollups import course_analytics_rollup_range

# Days rolled up in one pass: long enough to be set-based, short enough to bound memory and show progress.
CHUNK_DAYS = 31


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a YYYY-MM-DD date") from exc


class Command(BaseCommand):
    help = (
        "Run the course analytics rollups for every day from --from to --to (both included), oldest first, "
        f"{CHUNK_DAYS} days per pass."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, type=_day)
        parser.add_argument("--to", dest="last", required=True, type=_day)

    def handle(self, *args, first: date, last: date, **options):
        if first > last:
            raise CommandError("--from is after --to")
        total = (last - first).days + 1
        with tqdm(total=total, desc="rollups", unit="day", disable=options["verbosity"] == 0) as progress:
            for offset in range(0, total, CHUNK_DAYS):
                chunk_first = first + timedelta(days=offset)
                chunk_last = min(chunk_first + timedelta(days=CHUNK_DAYS - 1), last)
                course_analytics_rollup_range(first=chunk_first, last=chunk_last)
                progress.update((chunk_last - chunk_first).days + 1)
        self.stdout.write(f"rolled up {total} day(s): {first} to {last}")
