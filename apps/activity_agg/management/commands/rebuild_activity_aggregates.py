from django.core.management.base import BaseCommand, CommandError

from apps.activity_agg.services import course_activity_rebuild
from apps.course_analytics.selectors import tracking_events_days


class Command(BaseCommand):
    help = (
        "Rebuild the content progress and activity aggregates of courses from every stored tracking event of theirs "
        "(one pass, one transaction; idempotent). The refresh after each ingest and the nightly run keep them current."
    )

    def add_arguments(self, parser):
        parser.add_argument("course_ids", nargs="+", metavar="COURSE_ID")

    def handle(self, *args, course_ids: list[str], **options):
        days = tracking_events_days()
        if not days:
            raise CommandError("No tracking events are stored yet.")
        run = course_activity_rebuild(course_ids=course_ids, first=days[0], last=days[-1])
        self.stdout.write(f"{run.rows} aggregate rows written for {len(course_ids)} course(s) ({run.kind} {run.key}).")
