"""The bench's runner: each measure in a process of its own, whatever the process that starts it has done."""

import os
from functools import partial

import polars as pl

from apps.bench.runner import Result, run_isolated


def _streamed_sum(rows: int) -> list[Result]:
    total = pl.LazyFrame({"n": range(rows)}).select(pl.col("n").sum()).collect(engine="streaming").item()
    return [Result("sum", "n", float(total), 0.0, 0.0, "", None)]


def _failing() -> list[Result]:
    raise ValueError("no such table")


def _dying() -> list[Result]:
    os._exit(3)


def test_a_measure_runs_after_its_parent_ran_polars_queries_and_reports_its_own_peak():
    # A child forked after these had started polars' thread pools waited for them forever.
    _streamed_sum(1_000_000)
    pl.DataFrame({"n": range(1_000_000)}).group_by(pl.col("n") % 7).len()

    (result,) = run_isolated(partial(_streamed_sum, 1_000))

    assert result.tally == sum(range(1_000))
    assert 0 < result.peak_mb < 2_000


def test_a_failing_measure_gives_its_error_in_place_of_results():
    assert run_isolated(_failing) == "ValueError: no such table"


def test_a_measure_whose_process_dies_is_reported_not_waited_for():
    assert run_isolated(_dying) == "the measure's process ended without a result (exit code 3)"
