"""Shared Celery task options, and the platform's own housekeeping task."""

import logging
from collections.abc import Callable

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerOperationalError

from apps.common.services import job_runs_prune

logger = logging.getLogger(__name__)

# Only errors that a retry can cure: a dropped database or broker connection. A bug or bad data fails at once.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerOperationalError, ConnectionError, TimeoutError)

# Retries of every task. Delivery (acks_late, reject_on_worker_lost), results and time limits are the CELERY_TASK_*
# settings, which apply to all tasks.
TASK_OPTIONS = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


def tally_task(name: str, **overrides):
    """`shared_task` with Tally's shared options; `name` is "<app>.<verb>"."""
    return shared_task(name=name, **{**TASK_OPTIONS, **overrides})


def enqueue_on_commit(task, *, unqueued: Callable[[], None] | None = None, **options) -> None:
    """Send `task` (apply_async `options`) once the current transaction commits. With the broker away the write
    that queued it still stands: the failure is logged and `unqueued` says what becomes of the work, instead of
    a 500 for a request whose data is in."""

    def send() -> None:
        try:
            task.apply_async(**options)
        except (BrokerOperationalError, ConnectionError, TimeoutError) as exc:
            logger.warning("could not queue %s, the broker is unavailable: %s", task.name, exc)
            if unqueued is not None:
                unqueued()

    transaction.on_commit(send)


@tally_task("common.prune_job_runs", soft_time_limit=300, time_limit=360)
def prune_job_runs(older_than_days: int = 90) -> int:
    """Delete finished job runs older than `older_than_days`. Idempotent per day; returns the JobRun id."""
    return job_runs_prune(older_than_days=older_than_days).pk
