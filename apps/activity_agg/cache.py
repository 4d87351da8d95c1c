"""The cache of group aggregates (Redis when TALLY_CACHE_URL is set; per process otherwise).

An entry holds the two versions it was computed under: the group's (bumped when a group write commits: its members,
activities, status) and the activity's figures' (bumped when a refresh of it commits). A change therefore shows in
the next response, and the TTL (ACTIVITY_AGG_CACHE_SECONDS) only bounds what no version sees, such as a renamed user.
"""

import hashlib
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache

T = TypeVar("T")


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def _group_key(group_id: str) -> str:
    return f"activity_agg:group:{_digest(str(group_id).lower())}"


def _figures_key(activity_id: str) -> str:
    return f"activity_agg:figures:{_digest(activity_id)}"


def cached_group_agg(*, group_id: str, activity_id: str, activity_type: str, compute: Callable[[], T]) -> T:
    """`compute()` for (group, activity), cached for a short TTL with the versions it was computed under; a hit
    (the entry and both current versions read in one round trip) needs the versions unchanged."""
    group_key, figures_key = _group_key(group_id), _figures_key(activity_id)
    entry_key = "activity_agg:agg:" + _digest(str(group_id).lower(), activity_type, activity_id)
    found = cache.get_many([group_key, figures_key, entry_key])
    for key in (group_key, figures_key):
        if key not in found:  # never set, or evicted: start a version (a concurrent reader may win the race)
            cache.add(key, uuid.uuid4().hex, timeout=None)
            found[key] = cache.get(key)
    versions = (found[group_key], found[figures_key])
    entry = found.get(entry_key)
    if entry is not None and entry[0] == versions:
        return entry[1]
    value = compute()
    cache.set(entry_key, (versions, value), timeout=settings.ACTIVITY_AGG_CACHE_SECONDS)
    return value


def group_changed(*, group_id: uuid.UUID) -> None:
    cache.set(_group_key(str(group_id)), uuid.uuid4().hex, timeout=None)


def figures_changed(*, activity_ids: list[str]) -> None:
    cache.set_many({_figures_key(activity_id): uuid.uuid4().hex for activity_id in activity_ids}, timeout=None)
