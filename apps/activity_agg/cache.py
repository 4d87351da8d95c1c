"""The cache of group aggregates (Redis when TALLY_CACHE_URL is set; per process otherwise).

An entry holds the two versions it was computed under (apps.common.versioned_cache): the group's (bumped when a
group write commits: its members, activities, status) and the activity's figures' (bumped when a refresh of it
commits). A change therefore shows in the next response, and the TTL (ACTIVITY_AGG_CACHE_SECONDS) only bounds what
no version sees, such as a renamed user.
"""

import uuid
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

from apps.common.versioned_cache import cached, digest, versions_bump

T = TypeVar("T")


def _group_key(group_id: str) -> str:
    return f"activity_agg:group:{digest(str(group_id).lower())}"


def _figures_key(activity_id: str) -> str:
    return f"activity_agg:figures:{digest(activity_id)}"


def cached_group_agg(*, group_id: str, activity_id: str, activity_type: str, compute: Callable[[], T]) -> T:
    """`compute()` for (group, activity), cached for a short TTL while neither the group nor the activity's
    figures changed (the entry and both versions read in one round trip)."""
    return cached(
        key="activity_agg:agg:" + digest(str(group_id).lower(), activity_type, activity_id),
        versions=[_group_key(group_id), _figures_key(activity_id)],
        compute=compute,
        timeout=settings.ACTIVITY_AGG_CACHE_SECONDS,
    )


def group_changed(*, group_id: uuid.UUID) -> None:
    versions_bump([_group_key(str(group_id))])


def figures_changed(*, activity_ids: list[str]) -> None:
    versions_bump(_figures_key(activity_id) for activity_id in activity_ids)
