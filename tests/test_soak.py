"""`make soak` for a few seconds against the test database: every call of the mix answers as expected, through
gunicorn with Redis as production serves it."""

from importlib import import_module

import pytest
from django.apps import apps

from apps.bench.soak import soak_run
from apps.common.testing.fixtures import database_url_for_tests

pytestmark = [pytest.mark.postgres, pytest.mark.broker]
# The Sunbird form that a migration seeds: a transactional test before this one may have flushed it.
SUNBIRD_FORM = import_module("apps.groups.migrations.0002_sunbird_form")


def test_a_short_soak_meets_no_error_on_any_call(transactional_db, monkeypatch):
    # given the demo data and the soak's own users, pool and keys (seeded by the run), served by gunicorn
    monkeypatch.setenv("DATABASE_URL", database_url_for_tests())
    SUNBIRD_FORM.default_forms_create(apps, None)

    # when every call of the mix is driven for a few seconds
    report = soak_run(seconds=6, clients=2, warmup=2, growth_at_most=1.0)

    # then nothing failed, and the writes as well as the reads were called
    assert report.errors == 0, report.run.failures[:10]
    called = set(report.run.by_name)
    assert {"sunbird create", "sunbird delete", "learnosity datasets get", "v0 ingest events"} <= called
    assert report.rss_start_kb > 0
