"""A real Celery worker process on the real broker runs a task against the test database."""

import pytest

from apps.common.models import JobRun
from apps.common.tasks import prune_job_runs
from apps.common.testing.fixtures import wait_for


@pytest.mark.postgres
@pytest.mark.broker
def test_a_real_worker_runs_a_task_and_records_its_job_run(celery_worker_queue):
    # when a task is sent through the broker
    prune_job_runs.apply_async(kwargs={"older_than_days": 30}, queue=celery_worker_queue)

    # then the worker process runs it against the same database
    assert wait_for(lambda: JobRun.objects.filter(kind="common.prune_job_runs", status="succeeded").exists())
    assert JobRun.objects.get(kind="common.prune_job_runs").rows == 0
