"""Fixtures of the hostile-input tests: the dialects' own fixtures, and one check of every answer."""

import json
from typing import Any

import pytest
from hypothesis import event

from apps.common.testing.wire import error_shape_holds
from tests.ckan.conftest import known_groups  # noqa: F401 (a fixture)
from tests.newspark.conftest import newspark  # noqa: F401 (a fixture)


def answered(response, dialect) -> Any:
    """The parsed body of a response that is no server error; a refusal must be in `dialect`'s error shape."""
    assert response.status_code < 500, response.content[:500]
    event(f"HTTP {response.status_code}")
    body = json.loads(response.content)
    if response.status_code >= 400:
        assert error_shape_holds(dialect, body), body
    return body


@pytest.fixture(autouse=True)
def no_logged_errors(caplog):
    """A 500 is logged; an input that makes one is a defect even where the dialect answers in its shape."""
    yield
    errors = [record for record in caplog.records if record.levelname in ("ERROR", "CRITICAL")]
    assert not errors, [record.getMessage() for record in errors]
