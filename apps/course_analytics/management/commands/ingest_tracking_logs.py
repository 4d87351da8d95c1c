from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.course_analytics.services.ingest import BATCH_SIZE, tracking_files_ingest


class Command(BaseCommand):
    help = (
        "Ingest Open edX tracking log files (one JSON event per line, plain or gzip). Idempotent: an event already "
        "stored is skipped. Malformed lines are reported with file and line number and never stop the file."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument(
            "--batch-size", type=int, default=BATCH_SIZE, help=f"lines parsed and stored at a time ({BATCH_SIZE})"
        )

    def handle(self, *args, paths: list[Path], batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        missing = [str(path) for path in paths if not path.is_file()]
        if missing:
            raise CommandError(f"No such file: {', '.join(missing)}")
        with tqdm(desc="events", unit=" lines", disable=options["verbosity"] == 0) as progress:
            report = tracking_files_ingest(paths=paths, progress=progress.update, batch_size=batch_size)
        for problem in report.problems:
            self.stderr.write(f"malformed: {problem}")
        self.stdout.write(
            f"lines={report.lines} added={report.added} skipped={report.skipped} malformed={report.malformed}"
        )
