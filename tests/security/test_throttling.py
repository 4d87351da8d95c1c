"""Rates are counted per key, in every dialect, and a refusal is a 429 in the dialect's own shape."""

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_throttle_window")]


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


def _statuses(call, count: int) -> list[int]:
    return [call().status_code for _ in range(count)]


@override_settings(API_THROTTLE_RATE="2/minute")
def test_each_key_has_its_own_count(api_client):
    user = UserFactory()
    first, second = api_key_for(user, name="one"), api_key_for(user, name="two")

    first_statuses = _statuses(lambda: api_client.get("/api/v1/groups/", HTTP_AUTHORIZATION=first), 3)
    second_statuses = _statuses(lambda: api_client.get("/api/v1/groups/", HTTP_AUTHORIZATION=second), 2)

    assert first_statuses == [200, 200, 429]
    assert second_statuses == [200, 200]


@override_settings(API_THROTTLE_RATE="1/minute", API_SERVICE_THROTTLE_RATE="3/minute")
def test_a_service_key_gets_the_service_rate(api_client):
    raw_key = api_key_for(UserFactory(), service=True)

    assert _statuses(lambda: api_client.get("/api/v1/groups/", HTTP_AUTHORIZATION=raw_key), 4) == [200] * 3 + [429]


@override_settings(API_THROTTLE_RATE="1/minute")
def test_the_native_refusal_is_native(api_client, user_key):
    api_client.get("/api/v1/groups/", HTTP_AUTHORIZATION=user_key)

    response = api_client.get("/api/v1/groups/", HTTP_AUTHORIZATION=user_key)

    assert response.status_code == 429
    assert response.json() == {"detail": response.json()["detail"], "code": "throttled"}
    assert response.json()["detail"].startswith("Request was throttled.")


@override_settings(API_THROTTLE_RATE="1/minute")
def test_the_analytics_refusal_is_the_reference_s(api_client, sysadmin_key):
    path = "/api/v0/courses/course-v1:A+B+C/enrollment/"
    api_client.get(path, HTTP_AUTHORIZATION=f"Token {sysadmin_key}")

    response = api_client.get(path, HTTP_AUTHORIZATION=f"Token {sysadmin_key}")

    assert response.status_code == 429
    assert list(response.json()) == ["detail"]


@override_settings(API_THROTTLE_RATE="1/minute")
def test_the_sunbird_refusal_is_a_sunbird_envelope():
    portal, person = UserFactory(), UserFactory()
    http = APIClient()
    headers = {
        "HTTP_AUTHORIZATION": f"Bearer {api_key_for(portal)}",
        "HTTP_X_AUTHENTICATED_USER_TOKEN": api_key_for(person),
    }
    body = {"request": {"filters": {"userId": str(person.public_id)}}}
    http.post("/api/group/v1/list", body, format="json", **headers)

    response = http.post("/api/group/v1/list", body, format="json", **headers)

    assert response.status_code == 429
    assert response.json()["id"] == "api.group.list"
    assert response.json()["params"]["status"] == "failed"
    assert response.json()["params"]["err"] == "THROTTLED"
    assert response.json()["result"] == {}


@override_settings(API_THROTTLE_RATE="1/minute")
def test_the_ckan_refusal_is_a_ckan_envelope(api_client):
    raw_key = api_key_for(SysadminFactory())
    api_client.post("/api/3/action/help_show", {"name": "help_show"}, format="json", HTTP_AUTHORIZATION=raw_key)

    response = api_client.post(
        "/api/3/action/help_show", {"name": "help_show"}, format="json", HTTP_AUTHORIZATION=raw_key
    )

    assert response.status_code == 429
    assert response.json()["success"] is False
    assert response.json()["error"]["__type"]


@pytest.mark.broker
@override_settings(API_THROTTLE_RATE="2/minute")
def test_with_a_shared_cache_every_process_counts_in_one_redis_counter(shared_cache, api_client, user_key):
    statuses = _statuses(lambda: api_client.get("/api/v1/groups/", HTTP_AUTHORIZATION=user_key), 3)

    counters = redis.Redis.from_url(settings.CELERY_BROKER_URL).keys(f"{shared_cache}:*throttle:api:key-*")
    assert statuses == [200, 200, 429]
    assert len(counters) == 1
    assert int(redis.Redis.from_url(settings.CELERY_BROKER_URL).get(counters[0])) == 3


def test_a_refusal_says_when_to_retry(api_client, user_key):
    with override_settings(API_THROTTLE_RATE="1/hour"):
        api_client.get("/api/v1/groups/", HTTP_AUTHORIZATION=user_key)
        response = api_client.get("/api/v1/groups/", HTTP_AUTHORIZATION=user_key)

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600


@override_settings(API_THROTTLE_RATE="1/minute", API_SERVICE_THROTTLE_RATE="none")
def test_a_deployment_may_leave_its_service_keys_unthrottled(api_client, user_key):
    service_key = api_key_for(UserFactory(), service=True)

    service = _statuses(lambda: api_client.get("/api/v1/groups/", HTTP_AUTHORIZATION=service_key), 5)
    user = _statuses(lambda: api_client.get("/api/v1/groups/", HTTP_AUTHORIZATION=user_key), 2)

    assert service == [200] * 5
    assert user == [200, 429]
