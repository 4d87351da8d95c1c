from functools import partial

from django.core.management.base import BaseCommand, CommandError

from apps.bench.measures import MEASURES, report_write, table
from apps.bench.runner import Result, run_isolated
from apps.bench.scales import SCALES, Scale
from apps.bench.serving import leftovers_clear


class Command(BaseCommand):
    help = (
        "Measure Tally against baselines on the same generated data, in the same run, and print one table "
        "(measure, Tally, baseline, ratio, goal, whether it holds, peak memory); JSON goes to var/bench/. "
        "Run it on a database of its own (make bench does): it replaces the events, rollups and groups it uses."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument("--only", choices=sorted(MEASURES), action="append")

    def handle(self, *args, scale: str, only: list[str] | None, **options):
        chosen = SCALES[scale]
        results: list[Result] = []
        errors: dict[str, str] = {}
        try:
            for name in only or list(MEASURES):
                self.stderr.write(f"bench {chosen.name}: {name} ...")
                outcome = run_isolated(partial(_measure, name, chosen))
                if isinstance(outcome, str):
                    errors[name] = outcome
                else:
                    results.extend(outcome)
        finally:
            leftovers_clear()
        self.stdout.write(table(results, errors))
        path = report_write(scale=chosen, results=results, errors=errors)
        self.stdout.write(f"\nJSON: {path}")
        if errors:
            raise CommandError(f"{len(errors)} measure(s) failed: {', '.join(errors)}")


def _measure(name: str, scale: Scale) -> list[Result]:
    outcome = MEASURES[name](scale)
    return outcome if isinstance(outcome, list) else [outcome]
