"""Request rates per API key, shared by every dialect (each answers a refusal, 429, in its own shape)."""

import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import BaseThrottle

from apps.common.cache_backends import CacheUnavailable, RedisCache
from apps.common.models import ApiKey

_LOCAL_COUNTS = LocMemCache("throttle-local-counts", {})


class ApiKeyRateThrottle(BaseThrottle):
    """Counts the requests of each API key (of each user for a session, of each address when anonymous) in the
    default cache, which is Redis when TALLY_CACHE_URL is set, so that every process counts together.

    The rate is the Open edX Analytics API's: API_THROTTLE_RATE, or API_SERVICE_THROTTLE_RATE for a trusted
    service (a key marked `service`, or a key of one of API_SERVICE_USERNAMES), as DRF writes rates ("60/minute");
    "none" leaves such requests unthrottled (a deployment's own trusted services). Rates are read per request.

    A counter per fixed window of the rate's duration, one atomic increment per request, where DRF's own throttle
    reads and writes the list of every request's time in the last window (thousands of entries at a service's
    rate). A client may therefore make up to twice the rate across the boundary of two windows.
    """

    retry_after = 0.0

    def allow_request(self, request, view) -> bool:
        rate = settings.API_SERVICE_THROTTLE_RATE if is_service(request) else settings.API_THROTTLE_RATE
        if rate.lower() == UNTHROTTLED:
            return True
        allowed, duration = _parse_rate(rate)
        now = time.time()
        key = f"throttle:api:{self._ident(request)}:{duration}:{int(now // duration)}"
        if _window_count(key, timeout=duration) <= allowed:
            return True
        self.retry_after = duration - now % duration
        return False

    def wait(self) -> float:
        """Seconds until the current window ends."""
        return self.retry_after

    def _ident(self, request) -> str:
        if isinstance(request.auth, ApiKey):
            return f"key-{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"user-{request.user.pk}"
        return f"address-{self.get_ident(request)}"


DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
UNTHROTTLED = "none"


def _parse_rate(rate: str) -> tuple[int, int]:
    """("60/minute") -> (60, 60): requests allowed, and the window in seconds (DRF's notation)."""
    allowed, period = rate.split("/")
    return int(allowed), DURATIONS[period[0]]


def _window_count(key: str, *, timeout: int) -> int:
    """Count one more request under `key`, whose counter lives `timeout` seconds from the first: the new count.

    On Redis one round trip (the counter created if absent, then incremented: two commands, each atomic, so that
    no MULTI is needed); on a cache of the process, with add and incr.
    """
    backend = caches["default"]  # `cache` is a proxy to it, never an instance of a backend class
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        pipeline = backend._cache.get_client(full_key, write=True).pipeline(transaction=False)
        pipeline.set(full_key, 0, ex=timeout, nx=True)
        pipeline.incr(full_key)
        try:
            return backend._cache.call(pipeline.execute)[1]
        except CacheUnavailable:
            backend = _LOCAL_COUNTS  # while Redis is away each process counts its own requests
    if backend.add(key, 1, timeout=timeout):
        return 1
    try:
        return backend.incr(key)
    except ValueError:  # expired between the two calls: a new window has begun
        backend.add(key, 1, timeout=timeout)
        return 1


def is_service(request) -> bool:
    if isinstance(request.auth, ApiKey) and request.auth.service:
        return True
    return bool(request.user and request.user.is_authenticated) and (
        request.user.username in settings.API_SERVICE_USERNAMES
    )
