"""Public identifiers as they arrive from clients."""

import uuid


def uuid_or_none(value: object) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is not one (a malformed id simply names nothing)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
