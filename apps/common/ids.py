"""Public identifiers and moments as they arrive from clients."""

import uuid
from datetime import UTC, datetime


def uuid_or_none(value: object) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is not one (a malformed id simply names nothing)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def utc_moment(moment: datetime) -> datetime:
    """An aware moment in UTC; OverflowError when it falls outside the years 1 to 9999 once in UTC, which neither
    Python nor a page that shows it could represent."""
    return moment.astimezone(UTC)
