"""Writes started from the staff pages."""

from datetime import date

from apps.common.exceptions import ServiceError
from apps.common.tasks import prune_job_runs
from apps.course_analytics.services.rollups import ROLLUP_KIND
from apps.course_analytics.tasks import rollup_day, rollup_range

PRUNE_KIND = "common.prune_job_runs"


def _rollup_rerun(key: str) -> None:
    """A day's key ("2026-11-28") reruns that day; a range's ("2026-10-31..2026-11-28") reruns the range in one
    pass, recorded under the same key."""
    first, _, last = key.partition("..")
    if last:
        rollup_range.delay(date.fromisoformat(first).isoformat(), date.fromisoformat(last).isoformat())
    else:
        rollup_day.delay(date.fromisoformat(first).isoformat())


RERUNS = {
    ROLLUP_KIND: _rollup_rerun,
    PRUNE_KIND: lambda key: prune_job_runs.delay(),
}


def job_run_rerun(*, kind: str, key: str) -> None:
    """Queue the job of (kind, key) again; its task records a new JobRun. ServiceError for a kind or key that
    cannot be rerun from here. Idempotent as the job itself is (each job recomputes its key)."""
    rerun = RERUNS.get(kind)
    if rerun is None:
        raise ServiceError(f"Jobs of kind {kind!r} are not rerun from the dashboard.", code="not_rerunnable")
    try:
        rerun(key)
    except ValueError as exc:
        raise ServiceError(f"{key!r} is not a day.", code="not_rerunnable") from exc
