"""A body sent with `Transfer-Encoding: chunked` (no Content-Length) is read in full within the request limit by
every endpoint that reads a body, or refused: never answered as if it were empty (apps.common.api.parsers)."""

import json
from datetime import UTC, date, datetime

import pytest
import requests
from django.test import override_settings

from apps.common.api.ckan import CKAN
from apps.common.api.native import Native
from apps.common.api.sunbird import Sunbird
from apps.common.testing.factories import SysadminFactory, api_key_for
from apps.common.testing.wire import chunked_send, error_shape_holds
from apps.course_analytics.demo import tracking_log_lines
from apps.course_analytics.selectors import tracking_events_count
from apps.groups.models import Group

pytestmark = pytest.mark.django_db

COUNT_QUERY = {
    "query": [{"query_group": [{"state": "active"}]}],
    "start_date": "2000-01-01",
    "end_date": datetime.now(tz=UTC).date().isoformat(),
    "date_field": "created",
}
DEMO_COURSES = ["course-v1:TallyX+MATH101+2026_T1", "course-v1:TallyX+BIO201+2026_T1"]


def _demo_log() -> bytes:
    lines = tracking_log_lines(course_ids=DEMO_COURSES, learners=20, start=date(2024, 3, 1), days=3)
    return "\n".join(lines).encode()


@pytest.fixture
def sysadmin_headers():
    key = api_key_for(SysadminFactory())
    return {"HTTP_AUTHORIZATION": f"Token {key}", "HTTP_X_AUTHENTICATED_USER_TOKEN": key}


@pytest.mark.parametrize("size", [0, 1, 3, 20])
def test_every_dialect_reads_a_chunked_body_in_full(client, sysadmin_headers, size):
    names = [f"group {n}" for n in range(size)]

    native = [chunked_send(client, "post", "/api/v1/groups/", json.dumps({"name": name}).encode(), **sysadmin_headers)
              for name in names]  # fmt: skip
    sunbird = chunked_send(
        client, "post", "/api/group/v1/create", json.dumps({"request": {"name": "sunbird"}}).encode(),
        HTTP_AUTHORIZATION=sysadmin_headers["HTTP_AUTHORIZATION"].replace("Token", "Bearer"),
        HTTP_X_AUTHENTICATED_USER_TOKEN=sysadmin_headers["HTTP_X_AUTHENTICATED_USER_TOKEN"],
    )  # fmt: skip
    ckan = chunked_send(
        client, "post", "/api/3/action/get_group_count", json.dumps(COUNT_QUERY).encode(), **sysadmin_headers
    )

    assert [r.status_code for r in native] == [201] * size
    assert sunbird.status_code == 200
    assert ckan.json()["result"] == {"count": size + 1}
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted([*names, "sunbird"])


def test_a_chunked_tracking_log_stores_the_same_events_as_a_plain_one(client, sysadmin_headers):
    log = _demo_log()

    chunked = chunked_send(client, "post", "/api/v0/ingest/events", log, **sysadmin_headers).json()
    stored = tracking_events_count()
    plain = client.post("/api/v0/ingest/events", log, content_type="application/x-ndjson", **sysadmin_headers).json()

    assert chunked["lines"] == plain["lines"] == log.count(b"\n") + 1
    assert chunked["added"] == stored > 0
    assert plain["added"] == 0


@pytest.mark.parametrize(
    ("path", "limit_setting", "dialect"),
    [
        ("/api/v1/groups/", "REQUEST_MAX_BYTES", Native),
        ("/api/3/action/get_group_count", "REQUEST_MAX_BYTES", CKAN),
        ("/api/group/v1/create", "REQUEST_MAX_BYTES", Sunbird),
        ("/api/v0/ingest/events", "REQUEST_MAX_BYTES_BY_PATH", Native),
    ],
)
@pytest.mark.parametrize("excess", [1, 1000])
def test_a_chunked_body_over_the_limit_is_refused_with_413(
    client, sysadmin_headers, path, limit_setting, dialect, excess
):
    limit = 500
    limits = {"REQUEST_MAX_BYTES": limit, "REQUEST_MAX_BYTES_BY_PATH": {"/api/v0/ingest/": limit}}
    body = json.dumps({"name": "x" * (limit + excess)}).encode()

    with override_settings(**{limit_setting: limits[limit_setting]}):
        response = chunked_send(client, "post", path, body, **sysadmin_headers)

    assert response.status_code == 413
    assert error_shape_holds(dialect, response.json())
    assert not Group.objects.exists()


@pytest.mark.parametrize(
    ("path", "dialect"),
    [("/api/v1/groups/", Native), ("/api/3/action/get_group_count", CKAN), ("/api/v0/ingest/events", Native)],
)
@pytest.mark.parametrize("body", [b"", b"{}", json.dumps({"name": "x"}).encode()])
def test_a_chunked_body_the_server_did_not_decode_is_refused_with_411(client, sysadmin_headers, path, dialect, body):
    response = chunked_send(client, "post", path, body, decoded_by_server=False, **sysadmin_headers)

    assert response.status_code == 411
    assert error_shape_holds(dialect, response.json())
    assert not Group.objects.exists()
    assert tracking_events_count() == 0


@pytest.mark.live
def test_make_runs_server_stores_a_chunked_demo_log_as_a_plain_one(served_sqlite):
    log = _demo_log()
    url, headers = f"{served_sqlite.url}/api/v0/ingest/events", {"Authorization": f"Token {served_sqlite.sysadmin_key}"}

    def chunks():
        for start in range(0, len(log), 4096):
            yield log[start : start + 4096]

    chunked = requests.post(url, data=chunks(), headers=headers, timeout=60).json()
    plain = requests.post(url, data=log, headers=headers, timeout=60).json()

    assert chunked["lines"] == plain["lines"] == log.count(b"\n") + 1
    assert chunked["added"] > 0
    assert plain["added"] == 0


@pytest.mark.live
def test_make_runs_server_reads_chunked_json_bodies(served_sqlite):
    headers = {"Authorization": served_sqlite.sysadmin_key}
    body = json.dumps(COUNT_QUERY).encode()

    response = requests.post(
        f"{served_sqlite.url}/api/3/action/get_group_count", data=iter([body[:10], body[10:]]), headers=headers,
        timeout=30,
    )  # fmt: skip

    assert response.json()["success"] is True
