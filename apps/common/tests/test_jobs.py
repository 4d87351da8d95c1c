from datetime import timedelta

import pytest
from django.utils import timezone

from apps.common.checks import visibility_timeout_check
from apps.common.models import JobRun
from apps.common.services import job_run_execute, job_runs_prune
from apps.common.tasks import prune_job_runs
from apps.common.testing.factories import UserFactory


@pytest.mark.django_db
def test_a_successful_job_records_its_rows():
    run = job_run_execute(kind="test.kind", key="2026-01-01", work=lambda: 7)

    run.refresh_from_db()
    assert (run.status, run.rows, run.error) == (JobRun.Status.SUCCEEDED, 7, "")
    assert run.finished >= run.started


@pytest.mark.django_db(transaction=True)
def test_a_failed_job_is_recorded_and_its_writes_are_rolled_back():
    def work() -> int:
        UserFactory(username="half-written")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        job_run_execute(kind="test.kind", key="k", work=work)

    run = JobRun.objects.get(kind="test.kind")
    assert run.status == JobRun.Status.FAILED
    assert run.error == "ValueError: boom"
    assert not UserFactory._meta.model.objects.filter(username="half-written").exists()


@pytest.mark.django_db
def test_pruning_keeps_recent_and_running_jobs_and_is_idempotent():
    old = timezone.now() - timedelta(days=100)
    JobRun.objects.create(kind="a", key="old", status=JobRun.Status.SUCCEEDED, started=old)
    JobRun.objects.create(kind="a", key="stuck", status=JobRun.Status.RUNNING, started=old)
    JobRun.objects.create(kind="a", key="recent", status=JobRun.Status.SUCCEEDED)

    first = job_runs_prune(older_than_days=90)
    second = job_runs_prune(older_than_days=90)

    assert (first.rows, second.rows) == (1, 0)
    assert set(JobRun.objects.filter(kind="a").values_list("key", flat=True)) == {"stuck", "recent"}


@pytest.mark.django_db
def test_the_prune_task_calls_the_service_in_process_when_called_directly():
    run_id = prune_job_runs(older_than_days=1)

    assert JobRun.objects.get(pk=run_id).kind == "common.prune_job_runs"


def test_a_visibility_timeout_shorter_than_the_longest_task_fails_the_deployment_check(settings):
    settings.CELERY_TASK_TIME_LIMIT = 3600
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

    warnings = visibility_timeout_check(None)
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3601}

    assert [warning.id for warning in warnings] == ["tally.W001"]
    assert visibility_timeout_check(None) == []
