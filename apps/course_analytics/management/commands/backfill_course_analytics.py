from datetime import date

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.course_analytics.services.rollups import (
    BACKFILL_WEEKS,
    course_analytics_backfill,
    course_analytics_backfill_enqueue,
)
from apps.course_analytics.tasks import rollup_range


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a YYYY-MM-DD date") from exc


class Command(BaseCommand):
    help = (
        "Run the course analytics rollups for every day from --from to --to (both included): the learner states "
        f"first, then ranges of {BACKFILL_WEEKS} ISO weeks, oldest first; with --fan-out the ranges become Celery "
        "tasks (course_analytics.rollup_range) that as many workers as there are share."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, type=_day)
        parser.add_argument("--to", dest="last", required=True, type=_day)
        parser.add_argument("--fan-out", action="store_true", help="enqueue the ranges instead of running them here")

    def handle(self, *args, first: date, last: date, **options):
        if first > last:
            raise CommandError("--from is after --to")
        if options["fan_out"]:
            ranges = course_analytics_backfill_enqueue(
                first=first, last=last, enqueue=lambda a, b: rollup_range.delay(a.isoformat(), b.isoformat())
            )
            self.stdout.write(f"enqueued {ranges} range(s) of {first} to {last}")
            return
        total = (last - first).days + 1
        with tqdm(total=total, desc="rollups", unit="day", disable=options["verbosity"] == 0) as progress:
            course_analytics_backfill(first=first, last=last, progress=progress.update)
        self.stdout.write(f"rolled up {total} day(s): {first} to {last}")
