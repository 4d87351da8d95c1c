from datetime import date

from apps.activity_agg.services import activity_aggregates_refresh
from apps.common.tasks import tally_task
from apps.course_analytics.services.rollups import yesterday


@tally_task("activity_agg.refresh", soft_time_limit=30 * 60, time_limit=35 * 60)
def refresh(first: str | None = None, last: str | None = None) -> int:
    """Refresh the activity aggregates from the tracking events of the UTC days [first, last] (ISO dates; both
    yesterday when omitted). Idempotent on the days; returns the JobRun id."""
    first_day = date.fromisoformat(first) if first else yesterday()
    return activity_aggregates_refresh(first=first_day, last=date.fromisoformat(last) if last else first_day).pk
