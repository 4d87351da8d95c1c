"""A scheduled run that falls due while the broker is away is sent once the broker is back, and once."""

from datetime import timedelta

import pytest
import redis
from celery import current_app
from celery.beat import ScheduleEntry

from apps.common.beat import RetryingScheduler

pytestmark = pytest.mark.broker


def test_a_run_due_during_a_broker_outage_is_sent_once_the_broker_is_back(private_broker, tmp_path, monkeypatch):
    monkeypatch.setattr(RetryingScheduler, "retry_seconds", 0.0)
    queue = "test-beat-outage"
    scheduler = RetryingScheduler(app=current_app, schedule_filename=str(tmp_path / "beat"))
    scheduler.schedule["prune"] = ScheduleEntry(
        name="prune", task="common.prune_job_runs", schedule=timedelta(hours=1), options={"queue": queue},
        last_run_at=current_app.now() - timedelta(hours=1, seconds=1), app=current_app,
    )  # fmt: skip
    scheduler.producer  # noqa: B018 (connected while the broker is up, as a running beat is)

    private_broker.stop()
    for _ in range(3):
        scheduler.tick()
    private_broker.start()
    for _ in range(3):
        scheduler.tick()

    assert redis.Redis.from_url(private_broker.url).llen(queue) == 1
    assert scheduler.schedule["prune"].last_run_at > current_app.now() - timedelta(minutes=1)
