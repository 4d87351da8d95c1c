"""Days as Tally stores them: UTC calendar days."""

from datetime import UTC, date, datetime, time


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of `day`."""
    return datetime.combine(day, time.min, tzinfo=UTC)
