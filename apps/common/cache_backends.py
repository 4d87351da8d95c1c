"""Django's Redis cache, keeping one client per connection pool, and answering without Redis while it is away.

Django's own backend builds a new `redis.Redis` for every operation (a fifth of a millisecond each), and a cached
API read makes three or four of them. A client is safe to share between threads; its pool hands each command a
connection.

When Redis cannot be reached the cache degrades instead of failing the request: reads miss, writes are dropped
(every value is then computed from the database), for RETRY_SECONDS before Redis is tried again, and the outage
and the recovery are logged once each. Versions bumped during the outage never reached Redis, so the process that
sees Redis back first bumps OUTAGE_EPOCH, on which every versioned entry depends (apps.common.versioned_cache):
what was cached before the outage is stale once Redis answers again.
"""

import functools
import logging
import threading
import time
import uuid

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

OUTAGE_EPOCH = "cache:outage-epoch"
RETRY_SECONDS = 2.0
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class CacheUnavailable(Exception):
    """Redis is away (tried less than RETRY_SECONDS ago, or failed just now)."""


class DegradingRedisClient(RedisCacheClient):
    """One client per pool; every cache operation through `call`, which knows whether Redis is away."""

    def __init__(self, servers, *, epoch_key: str, **options):
        super().__init__(servers, **options)
        self._epoch_key = epoch_key
        self._clients: dict[int, object] = {}
        self._down_until = 0.0
        self._down = False
        self._lock = threading.Lock()

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client

    def call(self, operation, *args):
        """`operation(*args)` against Redis; CacheUnavailable when Redis is away."""
        if self._down:
            if time.monotonic() < self._down_until:
                raise CacheUnavailable
            self._recover()
        try:
            return operation(*args)
        except UNREACHABLE as exc:
            self._mark_down(exc)
            raise CacheUnavailable from exc

    def _mark_down(self, exc: Exception) -> None:
        with self._lock:
            self._down_until = time.monotonic() + RETRY_SECONDS
            if not self._down:
                self._down = True
                logger.warning("cache unreachable, serving without it: %s", exc)

    def _recover(self) -> None:
        """Bump the outage epoch before anything is read again: a read first could still find an entry whose
        versions were bumped, in vain, during the outage."""
        try:
            RedisCacheClient.set(self, self._epoch_key, uuid.uuid4().hex, None)
        except UNREACHABLE as exc:
            self._mark_down(exc)
            raise CacheUnavailable from exc
        with self._lock:
            recovered, self._down = self._down, False
        if recovered:
            logger.warning("cache reachable again; entries cached before the outage are stale")


def _degrading(name: str, fallback):
    def operation(self, *args):
        try:
            return self.call(getattr(RedisCacheClient, name).__get__(self), *args)
        except CacheUnavailable:
            return fallback(*args) if callable(fallback) else fallback

    operation.__name__ = name
    return operation


def _missing(key, delta):
    raise ValueError(f"Key {key!r} not found (the cache is unreachable)")


for _name, _fallback in {
    "incr": _missing,
    "add": False,
    "get": lambda key, default: default,
    "set": None,
    "touch": False,
    "delete": False,
    "get_many": lambda keys: {},
    "has_key": False,
    "set_many": lambda data, timeout: [],
    "delete_many": None,
    "clear": None,
}.items():
    setattr(DegradingRedisClient, _name, _degrading(_name, _fallback))


class RedisCache(DjangoRedisCache):
    _cache: DegradingRedisClient

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = functools.partial(DegradingRedisClient, epoch_key=self.make_key(OUTAGE_EPOCH))
