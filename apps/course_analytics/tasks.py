from datetime import date

from apps.common.tasks import tally_task
from apps.course_analytics.services.rollups import (
    course_analytics_rollup,
    course_analytics_rollup_range,
    yesterday,
)


@tally_task("course_analytics.rollup_day")
def rollup_day(day: str | None = None) -> int:
    """Roll up one UTC day (ISO date; yesterday when omitted). Idempotent on the day; returns the JobRun id."""
    return course_analytics_rollup(day=date.fromisoformat(day) if day else yesterday()).pk


@tally_task("course_analytics.rollup_range")
def rollup_range(first: str, last: str) -> int:
    """Roll up the UTC days [first, last] (ISO dates) in one pass: one range of a fanned-out backfill. Idempotent
    on the range; returns the JobRun id."""
    return course_analytics_rollup_range(first=date.fromisoformat(first), last=date.fromisoformat(last)).pk
