"""Reads shared by every app."""

import uuid
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.common.models import API_KEY_PREFIX, ApiKey, User, api_key_digest
from config.celery import app as celery_app


def api_key_get_usable(*, raw_key: str, now: datetime | None = None) -> ApiKey | None:
    """The key matching `raw_key` when it exists, is not revoked or expired, and its owner is active; else None."""
    if not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) > 128:
        return None
    api_key = ApiKey.objects.select_related("user").filter(digest=api_key_digest(raw_key)).first()
    if api_key is None or not api_key.is_usable(now=now or timezone.now()):
        return None
    return api_key


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
