"""Fixtures shared by every app's tests and the cross-app tests (registered in the root conftest.py)."""

import os

import pytest
from django.conf import settings
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
