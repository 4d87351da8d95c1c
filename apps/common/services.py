"""Writes shared by every app: users behind API keys, API keys themselves, and background job runs."""

import hashlib
import logging
import secrets
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from apps.common.exceptions import ServiceError
from apps.common.key_cache import api_keys_cache_invalidate
from apps.common.models import API_KEY_PREFIX, ApiKey, JobRun, User, api_key_digest, every_dialect

logger = logging.getLogger(__name__)

API_KEY_VISIBLE_CHARS = 12
# Writing last_used on every request would turn each read into a write; a minute's precision is enough.
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)


def user_ensure(*, username: str, sysadmin: bool = False) -> User:
    """Return the user called `username`, creating it (with no usable password) when absent.

    Idempotent on username. `sysadmin=True` makes the user a superuser and staff; it never removes those flags.
    """
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
    if sysadmin:
        user.is_superuser = True
        user.is_staff = True
    if created or sysadmin:
        user.save()
    return user


def user_manager_set(*, user: User, manager: User | None) -> None:
    """Make `manager` the one who acts for `user` (Sunbird's managed user), or nobody with None. A user never
    manages themselves, and a managed account manages nobody (Sunbird's managed users are one level deep)."""
    if manager is not None:
        if manager.pk == user.pk:
            raise ServiceError("A user cannot manage their own account.", code="self_managed", field="manager")
        if manager.managed_by_id is not None:
            raise ServiceError("A managed account cannot manage another.", code="manager_is_managed", field="manager")
        if user.managed_users.exists():
            raise ServiceError("This user manages other accounts.", code="user_is_manager", field="username")
    User.objects.filter(pk=user.pk).update(managed_by=manager)
    user.managed_by = manager


@transaction.atomic
def api_key_create(
    *,
    user: User,
    name: str,
    expires_at: datetime | None = None,
    dialects: Sequence[str] | None = None,
    read_only: bool = False,
    analytics: bool = False,
    ingest: bool = False,
    service: bool = False,
) -> tuple[ApiKey, str]:
    """Create a key for `user` and return it with the raw key, which is shown once and never stored or logged.

    The scopes default to what an ordinary user does today (every dialect, reads and writes, no analytics, no
    ingest); ValidationError names an unknown dialect.
    """
    raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(
        user=user,
        name=name,
        prefix=raw_key[:API_KEY_VISIBLE_CHARS],
        digest=api_key_digest(raw_key),
        expires_at=expires_at,
        dialects=list(dialects) if dialects is not None else every_dialect(),
        read_only=read_only,
        analytics=analytics,
        ingest=ingest,
        service=service,
    )
    api_key.full_clean(exclude=["user", "digest", "prefix"])
    api_key.save()
    return api_key, raw_key


def api_key_revoke(*, api_key: ApiKey) -> None:
    """Revoke a key for good; requests with it are anonymous from now on (in every process, once this commits).
    Idempotent."""
    ApiKey.objects.filter(pk=api_key.pk).update(revoked=True)
    api_key.revoked = True
    transaction.on_commit(api_keys_cache_invalidate)


def api_key_touch(*, api_key: ApiKey, now: datetime) -> bool:
    """Record that the key was used, at most once per API_KEY_TOUCH_INTERVAL; True when it was recorded now."""
    if api_key.last_used is not None and now - api_key.last_used < API_KEY_TOUCH_INTERVAL:
        return False
    ApiKey.objects.filter(pk=api_key.pk).update(last_used=now)
    api_key.last_used = now
    return True


def _lock_id(kind: str, key: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{kind}:{key}".encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def job_lock(*, kind: str, key: str) -> Iterator[None]:
    """Serialise runs of the same (kind, key) across workers.

    PostgreSQL holds a session advisory lock for the run; SQLite already admits a single writer at a time.
    """
    if connection.vendor != "postgresql":
        yield
        return
    lock_id = _lock_id(kind, key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [lock_id])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


def job_transaction_lock(*, kind: str, key: str, shared: bool = False) -> None:
    """Hold the lock of (kind, key) until the current transaction ends (PostgreSQL; SQLite has a single writer):
    exclusive, or `shared` with the other shared holders (readers that no writer may change the data under)."""
    if connection.vendor == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s)", [_lock_id(kind, key)])


ABANDONED = "abandoned: the process running it stopped before it ended (its work was rolled back)"


def _abandoned_runs_close(*, kind: str, key: str) -> None:
    """Mark failed the runs of (kind, key) still recorded as running: under the job lock on PostgreSQL, their
    process is gone (a killed worker's session lock ends with its connection), and so is their uncommitted work.
    SQLite has no such lock to prove it, and keeps them as they are."""
    if connection.vendor == "postgresql":
        JobRun.objects.filter(kind=kind, key=key, status=JobRun.Status.RUNNING).update(
            status=JobRun.Status.FAILED, error=ABANDONED, finished=timezone.now()
        )


def job_run_execute(*, kind: str, key: str, work: Callable[[], int]) -> JobRun:
    """Run `work` for (kind, key) under the job lock, inside one transaction, and record the run.

    `work` returns the number of rows it wrote. The JobRun row is committed on its own, before and after the
    work, so that a run in progress and a failed run are both visible in the admin; the work itself commits all or
    nothing, so a failure leaves the previous results in place. The exception of a failed run is re-raised.
    """
    with job_lock(kind=kind, key=key):
        _abandoned_runs_close(kind=kind, key=key)
        run = JobRun.objects.create(kind=kind, key=key)
        try:
            with transaction.atomic():
                rows = work()
        except Exception as exc:
            run.status = JobRun.Status.FAILED
            run.error = "".join(traceback.format_exception_only(exc)).strip()
            run.finished = timezone.now()
            run.save(update_fields=["status", "error", "finished"])
            logger.exception("job failed", extra={"kind": kind, "key": key})
            raise
        run.status = JobRun.Status.SUCCEEDED
        run.rows = rows
        run.finished = timezone.now()
        run.save(update_fields=["status", "rows", "finished"])
        return run


def job_runs_prune(*, older_than_days: int) -> JobRun:
    """Delete finished job runs older than `older_than_days`; recorded itself as job ("common.prune_job_runs", day).

    Idempotent: a rerun on the same day finds nothing more to delete.
    """
    now = timezone.now()
    cutoff = now - timedelta(days=older_than_days)

    def prune() -> int:
        deleted, _ = JobRun.objects.filter(started__lt=cutoff).exclude(status=JobRun.Status.RUNNING).delete()
        return deleted

    return job_run_execute(kind="common.prune_job_runs", key=now.date().isoformat(), work=prune)
