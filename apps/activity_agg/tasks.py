from datetime import date

from apps.activity_agg.services import (
    REFRESH_TIME_LIMIT_SECONDS,
    activity_aggregates_refresh,
    activity_aggregates_refresh_nightly,
)
from apps.common.tasks import tally_task
from apps.course_analytics.services.rollups import yesterday


@tally_task(
    "activity_agg.refresh", soft_time_limit=REFRESH_TIME_LIMIT_SECONDS - 5 * 60, time_limit=REFRESH_TIME_LIMIT_SECONDS
)
def refresh(first: str | None = None, last: str | None = None) -> int:
    """Refresh the activity aggregates from the tracking events of the UTC days [first, last] (ISO dates; `last`
    is `first` when omitted). Without them, the nightly refresh: yesterday, and the days whose refresh request is
    overdue. Idempotent on the days; returns the JobRun id (yesterday's, nightly)."""
    if first is None:
        if last is not None:
            raise ValueError("a refresh's last day needs its first")
        return activity_aggregates_refresh_nightly(day=yesterday())[0].pk
    first_day = date.fromisoformat(first)
    return activity_aggregates_refresh(first=first_day, last=date.fromisoformat(last) if last else first_day).pk
