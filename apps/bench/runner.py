"""Running one measure: in a child process of its own (so that its peak memory is its own), timed, and checked."""

import multiprocessing
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections


@dataclass
class Result:
    """One row of the table. `ratio` is Tally / baseline in the measure's own unit; `holds` whether the goal does
    (None for a row that only shows another baseline)."""

    name: str
    unit: str
    tally: float
    baseline: float
    ratio: float
    goal: str
    holds: bool | None
    peak_mb: float = 0.0
    detail: dict = field(default_factory=dict)


def compared(
    name: str,
    unit: str,
    tally: float,
    baseline: float,
    *,
    at_most: float | None = None,
    at_least: float | None = None,
    valid: bool = True,
    detail: dict | None = None,
) -> Result:
    """A Result for Tally against a baseline: the ratio tally / baseline, and whether it is within `at_most` (or
    reaches `at_least`); with neither, the row only shows a second baseline. `valid` false fails the goal anyway."""
    ratio = tally / baseline
    if at_most is not None:
        goal, holds = f"<= {at_most}", ratio <= at_most and valid
    elif at_least is not None:
        goal, holds = f">= {at_least}", ratio >= at_least and valid
    else:
        goal, holds = "no goal: a second baseline", None
    digits = 0 if unit.endswith("/s") else 4
    return Result(
        name,
        unit,
        round(tally, digits),
        round(baseline, digits),
        round(ratio, 4 if ratio < 0.1 else 2),
        goal,
        holds,
        detail=detail or {},
    )


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started


def _child(measure: Callable[[], list[Result]], queue) -> None:
    try:
        results = measure()
        peak_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        for result in results:
            result.peak_mb = peak_mb
        queue.put(("ok", results))
    except Exception as exc:  # reported in the table's place, not hidden
        queue.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        connections.close_all()


def run_isolated(measure: Callable[[], list[Result]]) -> list[Result] | str:
    """Run `measure` in a forked child; its Results, or the error text when it failed."""
    connections.close_all()  # a forked child must not share the parent's database sockets
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_child, args=(measure, queue))
    process.start()
    status, payload = queue.get()
    process.join()
    return payload if status == "ok" else str(payload)
