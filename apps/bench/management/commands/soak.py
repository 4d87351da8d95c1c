from django.core.management.base import BaseCommand, CommandError

from apps.bench.serving import leftovers_clear
from apps.bench.soak import FAILURES_SHOWN, report_tables, report_write, soak_run


class Command(BaseCommand):
    help = (
        "Drive a bounded mix of every read and write endpoint of every dialect against Tally behind gunicorn on "
        "loopback, checking every response's status; print requests, errors, p50, p99 and the servers' memory after "
        "a warm-up and at the end. Fails on any error or when that memory grew by more than --growth-at-most. "
        "Run it on a database of its own (make soak does): it seeds the demo data there."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=180, help="measured seconds, after the warm-up")
        parser.add_argument(
            "--warmup", type=float, default=None, help="seconds; a sixth of --seconds (15 to 30) by default"
        )
        parser.add_argument("--clients", type=int, default=4, help="load-generator threads, one connection each")
        parser.add_argument("--growth-at-most", type=float, default=0.2, help="memory growth allowed, as a fraction")

    def handle(self, *args, seconds: float, warmup: float | None, clients: int, growth_at_most: float, **options):
        warmup = warmup if warmup is not None else min(max(seconds / 6, 15), 30)
        self.stderr.write(f"soak: {warmup:g} s of warm-up, then {seconds:g} s with {clients} clients ...")
        try:
            report = soak_run(seconds=seconds, clients=clients, warmup=warmup, growth_at_most=growth_at_most)
        finally:
            leftovers_clear()
        self.stdout.write(report_tables(report))
        for failure in report.run.failures[:FAILURES_SHOWN]:
            self.stdout.write(f"FAILED at {failure.at:.1f} s {failure.name}: {failure.status} {failure.body}")
        self.stdout.write(f"\nJSON: {report_write(report)}")
        if not report.holds:
            raise CommandError(
                f"{report.errors} error(s); server memory {report.growth:+.1%} (at most {growth_at_most:+.0%})"
            )
