"""Redis away: reads keep answering from the database (caches bypassed, throttles counted per process), nothing
cached before the outage is served once Redis answers again, /healthz says the broker is down, and a write whose
follow-up task cannot be queued still stands."""

import os
from datetime import date, timedelta

import pytest
import redis
import requests
from django.test import override_settings
from django.utils import timezone

from apps.activity_agg.models import RefreshRequest
from apps.activity_agg.services import REFRESH_EXPIRES_SECONDS, activity_aggregates_refresh_nightly
from apps.common import cache_backends
from apps.common.testing.factories import SysadminFactory, api_key_for
from apps.common.testing.fixtures import database_url_for_tests, gunicorn_served, wait_for
from apps.course_analytics.demo import tracking_log_lines
from apps.course_analytics.selectors import tracking_events_scan
from apps.course_analytics.services.ingest import tracking_lines_ingest
from apps.course_analytics.services.rollups import yesterday
from apps.groups.tests.factories import GroupFactory
from tests.newspark.conftest import Newspark

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_cache(private_redis, monkeypatch):
    """The private Redis as the default cache, a request waiting at most a fifth of a second for it, and tried
    again at once after a failure."""
    monkeypatch.setattr(cache_backends, "RETRY_SECONDS", 0)
    options = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}
    backend = {"BACKEND": "apps.common.cache_backends.RedisCache", "LOCATION": private_redis.url, "OPTIONS": options}
    with override_settings(CACHES={"default": backend}):
        yield private_redis


def _names(newspark: Newspark) -> list[str]:
    return [item["name"] for key, item in newspark.result(vhost=41).items() if key.isdigit()]


def test_reads_answer_while_redis_is_stopped_and_show_writes_made_meanwhile(redis_cache):
    newspark = Newspark().as_user(api_key_for(SysadminFactory()))
    group = GroupFactory(vhost=41, name="Chess")
    cached = _names(newspark)

    redis_cache.stop()
    group.name = "Chess club"
    group.save()
    during = _names(newspark)
    redis_cache.start()
    after = _names(newspark)

    assert (cached, during, after) == (["Chess"], ["Chess club"], ["Chess club"])


def test_an_entry_cached_before_an_outage_is_stale_once_redis_answers_again(redis_cache):
    """Redis that keeps its data but stops answering for a while (a partition, a stall): the version bump of the
    write made meanwhile is lost, and the outage epoch makes up for it."""
    newspark = Newspark().as_user(api_key_for(SysadminFactory()))
    group = GroupFactory(vhost=41, name="Chess")
    cached = _names(newspark)
    server = redis.Redis.from_url(redis_cache.url)

    server.client_pause(1500)
    group.name = "Chess club"
    group.save()
    during = _names(newspark)
    assert wait_for(server.ping, seconds=10, interval=0.1)
    after = _names(newspark)

    assert (cached, during, after) == (["Chess"], ["Chess club"], ["Chess club"])


@pytest.mark.postgres
def test_a_served_tally_answers_reads_and_reports_the_broker_down_while_redis_is_stopped(redis_cache):
    key = api_key_for(SysadminFactory())
    GroupFactory(vhost=41, name="Chess")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url_for_tests(),
           "TALLY_CACHE_URL": redis_cache.url, "CELERY_BROKER_URL": redis_cache.url}  # fmt: skip
    headers = {"Authorization": f"Token {key}"}
    with gunicorn_served(env) as (url, _):
        read = f"{url}/services/json/groups/getGroups?vhost=41"
        before = [requests.get(read, headers=headers, timeout=10) for _ in range(4)]

        redis_cache.stop()
        during = [requests.get(read, headers=headers, timeout=10) for _ in range(8)]
        health = requests.get(f"{url}/healthz", timeout=10)
        redis_cache.start()
        after = [requests.get(read, headers=headers, timeout=10) for _ in range(4)]

    assert {response.status_code for response in before + during + after} == {200}
    assert {response.content for response in before + during + after} == {before[0].content}
    assert health.status_code == 503
    assert health.json()["checks"] == {"database": "ok", "broker": "down"}


@pytest.mark.broker
def test_an_ingest_while_the_broker_is_away_stores_its_events_and_leaves_the_refresh_to_the_night(private_broker):
    lines = list(
        tracking_log_lines(course_ids=["course-v1:TallyX+OPS+2026"], learners=5, start=date(2026, 3, 2), days=1)
    )

    private_broker.stop()
    report = tracking_lines_ingest(lines=lines, source="outage")

    assert report.added == len(lines) > 0
    assert tracking_events_scan(columns=["event_key"]).collect().height == len(lines)
    # and the day's refresh request is dated back past a queued task's expiry, so that the nightly refresh reads the
    # day (and the day's next ingest asks again: apps/activity_agg/tests)
    request = RefreshRequest.objects.get()
    assert request.requested < timezone.now() - timedelta(seconds=REFRESH_EXPIRES_SECONDS)
    runs = activity_aggregates_refresh_nightly(day=yesterday())
    assert [run.key for run in runs[1:]] == [f"{request.day.isoformat()}..{request.day.isoformat()}"]
    assert not RefreshRequest.objects.exists()
