from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.course_analytics.services.ingest import learner_profiles_ingest


class Command(BaseCommand):
    help = (
        "Ingest a user profile CSV export with the header user_id,year_of_birth,level_of_education,gender,country "
        "(user_id is the LMS user id of the tracking logs). Idempotent: a rerun rewrites the same rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with path.open(encoding="utf-8", newline="") as stream:
            report = learner_profiles_ingest(stream=stream, source=str(path))
        for problem in report.problems:
            self.stderr.write(f"malformed: {problem}")
        self.stdout.write(f"rows={report.lines} upserted={report.added} malformed={report.malformed}")
