"""The cache of API keys, so that a request's key lookup is one cache round trip instead of a query.

Only with a cache that every process shares (Redis): a revoke, a scope change or an owner's deactivation bumps one
version that every entry is checked against, in the same round trip as the entries, so that the next request in
any process sees it. With a per-process cache (the embedded default) keys are always read from the database.
An entry lives API_KEY_CACHE_SECONDS at most; digests that match no key are never cached.
"""

from django.conf import settings
from django.core.cache import cache

from apps.common.cache_backends import OUTAGE_EPOCH
from apps.common.models import ApiKey
from apps.common.versioned_cache import current_version, shared_cache_enabled, versions_bump

VERSION_KEY = "api_keys:version"
# An entry is current while both are: a change to keys bumps the first, a cache outage the second.
VERSIONS = (VERSION_KEY, OUTAGE_EPOCH)


def _entry_key(digest: str) -> str:
    return f"api_keys:digest:{digest}"


def key_cache_enabled() -> bool:
    return settings.API_KEY_CACHE_SECONDS > 0 and shared_cache_enabled()


def cached_api_keys(*, digests: list[str]) -> tuple[tuple, dict[str, ApiKey]]:
    """The current version, and the cached keys (with their owners) of these digests cached under it, by digest."""
    found = cache.get_many([*VERSIONS, *(_entry_key(digest) for digest in digests)])
    version = tuple(current_version(found, name) for name in VERSIONS)
    entries = ((digest, found.get(_entry_key(digest))) for digest in digests)
    return version, {digest: entry[1] for digest, entry in entries if entry is not None and entry[0] == version}


def api_keys_cache_store(*, version: tuple, api_keys: list[ApiKey]) -> None:
    """Cache these keys, read from the database (their owners joined) after `version` was current: a change that
    bumped it meanwhile leaves them stale, never current."""
    entries = {_entry_key(api_key.digest): (version, api_key) for api_key in api_keys}
    cache.set_many(entries, timeout=settings.API_KEY_CACHE_SECONDS)


def api_keys_cache_touched(*, api_keys: list[ApiKey]) -> None:
    """Replace the current entries of these keys, whose use was just recorded, so that the next requests do not
    record it again; an entry a change made stale stays stale."""
    found = cache.get_many([*VERSIONS, *(_entry_key(api_key.digest) for api_key in api_keys)])
    version = tuple(found.get(name) for name in VERSIONS)
    current = [
        api_key for api_key in api_keys if (entry := found.get(_entry_key(api_key.digest))) and entry[0] == version
    ]
    cache.set_many(
        {_entry_key(api_key.digest): (version, api_key) for api_key in current},
        timeout=settings.API_KEY_CACHE_SECONDS,
    )


def api_keys_cache_invalidate() -> None:
    """Every cached key is stale from now on, in every process."""
    versions_bump([VERSION_KEY])
