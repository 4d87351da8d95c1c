"""Fixtures shared by every app's tests and the cross-app tests (registered in the root conftest.py)."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for


def _missing_service(marker_name: str) -> str | None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if marker_name == "postgres" and engine != "django.db.backends.postgresql":
        return "needs PostgreSQL (DATABASE_URL)"
    if marker_name == "broker" and settings.CELERY_TASK_ALWAYS_EAGER:
        return "needs a Celery broker (CELERY_BROKER_URL)"
    return None


def pytest_runtest_setup(item):
    """Skip tests whose service is not configured, unless TALLY_REQUIRE_SERVICES=1 makes that a failure."""
    for marker_name in ("postgres", "broker"):
        if item.get_closest_marker(marker_name) is None:
            continue
        reason = _missing_service(marker_name)
        if reason is None:
            continue
        if os.environ.get("TALLY_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{item.nodeid} {reason}, and TALLY_REQUIRE_SERVICES=1")
        pytest.skip(reason)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def sysadmin(db):
    return SysadminFactory()


@pytest.fixture
def user_key(user) -> str:
    return api_key_for(user)


@pytest.fixture
def sysadmin_key(sysadmin) -> str:
    return api_key_for(sysadmin)


def _test_database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def celery_worker_queue(transactional_db):
    """A real Celery worker process on the configured broker, consuming a queue of its own (so that no other
    worker on the broker takes the test's tasks), against the test database. Needs PostgreSQL and a broker."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    command = [
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
    ]
    worker = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
    yield queue
    worker.terminate()
    worker.wait(timeout=30)


def wait_for(predicate, *, seconds: float = 60, interval: float = 0.25) -> bool:
    """Poll `predicate` until it is true or `seconds` pass (for work done by another process)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.fixture(autouse=True)
def tracking_event_store(tmp_path_factory, settings, monkeypatch):
    """Every test gets an empty tracking-event store of its own; the environment carries it to worker processes."""
    root = str(tmp_path_factory.mktemp("events"))
    settings.TRACKING_EVENT_STORE = root
    monkeypatch.setenv("TALLY_EVENT_STORE", root)
    return root
