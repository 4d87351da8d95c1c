"""A real Celery worker process on the real broker runs a task against the test database."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from apps.common.models import JobRun
from apps.common.tasks import prune_job_runs


def _test_database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker_queue(transactional_db):
    """A worker process consuming a queue of its own, so that no other worker on the broker takes the task."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        cwd=settings.BASE_DIR,
    )
    yield queue
    worker.terminate()
    worker.wait(timeout=30)


@pytest.mark.postgres
@pytest.mark.broker
def test_a_real_worker_runs_a_task_and_records_its_job_run(worker_queue):
    # when a task is sent through the broker
    prune_job_runs.apply_async(kwargs={"older_than_days": 30}, queue=worker_queue)

    # then the worker process runs it against the same database
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not JobRun.objects.filter(kind="common.prune_job_runs").exists():
        time.sleep(0.25)
    run = JobRun.objects.get(kind="common.prune_job_runs")
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.rows == 0
