"""Running one measure: in a child process of its own (so that its peak memory is its own), timed, and checked."""

import multiprocessing
import pickle
import queue as queues
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import django
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


def _peak_mb() -> float:
    """This process's peak resident memory: VmHWM, its own since it started, where Linux has it; ru_maxrss keeps
    the peak of the process that spawned it (it survives the exec)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    (kilobytes,) = (line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return round(int(kilobytes) / 1024, 1)


def _child(pickled_measure: bytes, queue) -> None:
    try:
        # A spawned child starts with nothing set up (DJANGO_SETTINGS_MODULE is inherited); the measure is unpickled
        # after, since its modules read the settings and the models as they are imported.
        django.setup()
        measure: Callable[[], list[Result]] = pickle.loads(pickled_measure)
        results = measure()
        peak_mb = _peak_mb()
        for result in results:
            # A measure that ran Tally in a process of its own reports that process's peak instead.
            result.peak_mb = result.peak_mb or peak_mb
        queue.put(("ok", results))
    except Exception as exc:  # reported in the table's place, not hidden
        queue.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        connections.close_all()


def run_isolated(measure: Callable[[], list[Result]]) -> list[Result] | str:
    """Run `measure` (picklable: a module-level function, or a partial of one) in a child process of its own; its
    Results, or the error text when it failed or its process ended without a word (killed, say).

    The child is spawned, not forked: a child forked from a process whose polars thread pools had started inherits
    the pools without their threads, and its first parallel or streaming query waits for them forever (a small
    bench hung so)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(pickle.dumps(measure), queue))
    process.start()
    while True:
        try:
            status, payload = queue.get(timeout=1)
            break
        except queues.Empty:
            if not process.is_alive():
                return f"the measure's process ended without a result (exit code {process.exitcode})"
    process.join()
    return payload if status == "ok" else str(payload)
