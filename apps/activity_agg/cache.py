"""The cache of group aggregates (Redis when TALLY_CACHE_URL is set; per process otherwise).

An entry's key holds two versions: the group's (bumped when a group write commits: its members, activities,
status) and the activity's figures' (bumped when a refresh of it commits). A change therefore shows in the next
response, and the TTL (ACTIVITY_AGG_CACHE_SECONDS) only bounds what no version sees, such as a renamed user.
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


def _versions(keys: list[str]) -> list[str]:
    """The current version under each key, starting a new one where there is none (or it was evicted)."""
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, uuid.uuid4().hex, timeout=None)
            found[key] = cache.get(key)
    return [found[key] for key in keys]


def cached_group_agg(*, group_id: str, activity_id: str, activity_type: str, compute: Callable[[], T]) -> T:
    """`compute()` for (group, activity), cached under the current versions of both for a short TTL."""
    group_version, figures_version = _versions([_group_key(group_id), _figures_key(activity_id)])
    parts = (str(group_id).lower(), activity_type, activity_id, group_version, figures_version)
    key = "activity_agg:agg:" + _digest(*parts)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=settings.ACTIVITY_AGG_CACHE_SECONDS)
    return value


def group_changed(*, group_id: uuid.UUID) -> None:
    cache.set(_group_key(str(group_id)), uuid.uuid4().hex, timeout=None)


def figures_changed(*, activity_ids: list[str]) -> None:
    cache.set_many({_figures_key(activity_id): uuid.uuid4().hex for activity_id in activity_ids}, timeout=None)
