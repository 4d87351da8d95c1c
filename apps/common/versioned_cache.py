"""Values cached under the versions of what they depend on, so that a change shows in the next read.

A version is a random token in the default cache under a name (`activity_agg:group:<id>`, `groups:pages`, ...);
whoever changes what it stands for bumps it once the change commits. An entry is stored with the versions that
were current before its value was computed, and served only while they still are: a value computed from data
that changed meanwhile is stale from the start, never current. Entries and versions are read in one round trip.
Every entry also depends on OUTAGE_EPOCH, which changes when the cache comes back from an outage during which
bumps were lost.
"""

import hashlib
import uuid
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from apps.common.cache_backends import OUTAGE_EPOCH

T = TypeVar("T")


def shared_cache_enabled() -> bool:
    """Whether the default cache is one every process shares (Redis), so that a bump reaches every process."""
    return isinstance(caches["default"], RedisCache)


def digest(*parts: str) -> str:
    """A short fixed-length name for cache keys made of arbitrary text."""
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def current_version(found: dict, name: str) -> str:
    """The version `name` from a get_many that asked for it; started when it was never set or was evicted (a
    concurrent reader may win the race, whose token then counts)."""
    if name not in found:
        cache.add(name, uuid.uuid4().hex, timeout=None)
        found[name] = cache.get(name)
    return found[name]


def cached(*, key: str, versions: list[str], compute: Callable[[], T], timeout: int) -> T:
    """`compute()` cached under `key` for `timeout` seconds while every version in `versions` is unchanged (and
    the cache has had no outage since: apps.common.cache_backends)."""
    versions = [*versions, OUTAGE_EPOCH]
    found = cache.get_many([*versions, key])
    current = tuple(current_version(found, name) for name in versions)
    entry = found.get(key)
    if entry is not None and entry[0] == current:
        return entry[1]
    value = compute()
    cache.set(key, (current, value), timeout=timeout)
    return value


def shared_cached(*, key: str, versions: list[str], compute: Callable[[], T], timeout: int) -> T:
    """`cached`, when every process shares the cache; otherwise `compute()` every time, so that a write in one
    process is never hidden from another by a cache of its own."""
    if not shared_cache_enabled():
        return compute()
    return cached(key=key, versions=versions, compute=compute, timeout=timeout)


def versions_bump(names: Iterable[str]) -> None:
    """What these versions stand for changed: every entry cached under them is stale from now on."""
    cache.set_many({name: uuid.uuid4().hex for name in names}, timeout=None)
