"""Reads shared by every app."""

import uuid
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.common.key_cache import api_keys_cache_store, cached_api_keys, key_cache_enabled
from apps.common.models import API_KEY_PREFIX, ApiKey, User, api_key_digest
from config.celery import app as celery_app


def api_keys_get_usable(*, raw_keys: list[str], now: datetime | None = None) -> dict[str, ApiKey]:
    """The keys matching `raw_keys` that exist, are not revoked or expired, and whose owner is active, by raw key:
    from the shared key cache when there is one (apps.common.key_cache), the others read in one query."""
    digests = {api_key_digest(raw): raw for raw in raw_keys if raw.startswith(API_KEY_PREFIX) and len(raw) <= 128}
    if not digests:
        return {}
    now = now or timezone.now()
    cached = key_cache_enabled()
    version, api_keys = cached_api_keys(digests=list(digests)) if cached else ((), {})
    missing = [digest for digest in digests if digest not in api_keys]
    if missing:
        read = list(ApiKey.objects.select_related("user").filter(digest__in=missing))
        if cached:
            api_keys_cache_store(version=version, api_keys=read)
        api_keys |= {api_key.digest: api_key for api_key in read}
    return {digests[digest]: api_key for digest, api_key in api_keys.items() if api_key.is_usable(now=now)}


def user_get_active(*, public_id: uuid.UUID) -> User | None:
    return User.objects.filter(public_id=public_id, is_active=True).first()


def database_check() -> str | None:
    """None when the database answers a trivial query, else the reason it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "down"; the reason is reported, not raised
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def broker_check() -> str | None:
    """None when the Celery broker accepts a connection (or tasks run in-process), else the reason it does not."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    try:
        with celery_app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.HEALTH_CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure means "down"; the reason is reported, not raised
        return f"{type(exc).__name__}: {exc}".strip()
    return None
