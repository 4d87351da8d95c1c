"""Text that the two databases would treat differently, or that a page cannot show, is a 400 in every dialect's
own shape (apps.common.safe_json through apps.common.api.parsers), and nothing is written."""

import json

import pytest

from apps.common.safe_json import BODY_MAX_DEPTH
from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for
from apps.course_analytics.selectors import tracking_events_count, tracking_events_scan
from apps.groups.models import Group

pytestmark = pytest.mark.django_db

# JSON texts, each holding one refused value where a string or an object is expected.
REFUSED = {
    "nul": '"a\\u0000b"',
    "lone-high-surrogate": '"\\ud800"',
    "lone-low-surrogate": '"x\\udfffy"',
    "nul-in-a-key": '{"a\\u0000": 1}',
    "nan": "NaN",
    "infinity": "-Infinity",
    "float-overflow": "1e999",
    "too-deep": "[" * (BODY_MAX_DEPTH + 1) + "]" * (BODY_MAX_DEPTH + 1),
}


@pytest.fixture
def caller(db):
    user = UserFactory()
    return user, api_key_for(user)


@pytest.mark.parametrize(("field", "value"), [(f, v) for f in ("name", "status", "other") for v in REFUSED.values()])
def test_native_refuses_the_value_with_its_parse_error_and_stores_nothing(api_client, caller, field, value):
    other = value if value.startswith("{") else f'{{"key": {value}}}'
    body = '{"name": "ok", "%s": %s}' % (field, other if field == "other" else value)  # noqa: UP031

    response = api_client.post(
        "/api/v1/groups/", data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {caller[1]}"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not Group.objects.exists()


@pytest.mark.parametrize("value", REFUSED.values(), ids=REFUSED.keys())
@pytest.mark.parametrize("where", ["ver", "name", "description"])
def test_sunbird_refuses_the_value_inside_its_envelope(api_client, caller, where, value):
    inner = {"name": '"Maths"'} | ({where: value} if where != "ver" else {})
    request = "{" + ", ".join(f'"{key}": {text}' for key, text in inner.items()) + "}"
    body = '{"ver": %s, "request": %s}' % (value if where == "ver" else '"v1"', request)  # noqa: UP031
    headers = {"HTTP_AUTHORIZATION": f"Bearer {caller[1]}", "HTTP_X_AUTHENTICATED_USER_TOKEN": caller[1]}

    response = api_client.post("/api/group/v1/create", data=body, content_type="application/json", **headers)

    body = response.json()
    assert response.status_code == 400
    assert (body["id"], body["responseCode"], body["params"]["err"], body["result"]) == (
        "api.group.create", 400, "GS_CRT02", {}
    )  # fmt: skip
    assert not Group.objects.exists()


@pytest.mark.parametrize("value", REFUSED.values(), ids=REFUSED.keys())
@pytest.mark.parametrize("operator", ["=", "like"])
def test_ckan_refuses_the_value_in_a_condition(client, value, operator):
    condition = '{"name": %s, "operator": "%s"}' % (value, operator)  # noqa: UP031
    body = (
        '{"query": [{"query_group": [%s]}], "start_date": "2024-01-01", "end_date": "2024-12-31", '  # noqa: UP031
        '"date_field": "created"}' % condition
    )
    key = api_key_for(SysadminFactory())

    response = client.post(
        "/api/3/action/get_group_count", data=body, content_type="application/json", HTTP_AUTHORIZATION=key
    )

    assert response.status_code == 400
    assert response.json().startswith("Bad request: JSON Error: Error decoding JSON data.")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/3/action/help_show?name=get_group_count%00"),
        ("get", "/api/action/help_show?name=%00"),
        ("get", "/api/v0/courses/course-v1:A%00+B+C/enrollment/"),
        ("get", "/api/v0/courses/course-v1:A+B+C/enrollment/?start_date=2024-01-01%00"),
        ("get", "/api/v0/courses/course-v1:A+B+C/activity/?activity_type=any%00"),
        ("get", "/api/v1/groups/?name=%00"),
        ("get", "/api/v1/groups/?search=a%00"),
    ],
)
def test_a_nul_in_the_url_is_a_400_in_the_dialect_shape(client, method, path):
    key = api_key_for(SysadminFactory())

    response = getattr(client, method)(path, HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 400
    body = response.json()
    if path.startswith("/api/3/") or path.startswith("/api/action/"):
        assert body.startswith("Bad request: ")
    elif path.startswith("/api/v0/"):
        assert set(body) == {"detail"}
    else:
        assert body["code"] in ("invalid", "parse_error")


@pytest.mark.parametrize(
    "text",
    ["a\\u0000b", "\\u0000", "x\\\\\\u0000"],
    ids=["inside", "alone", "after-an-escaped-backslash"],
)
def test_ingest_counts_an_event_with_a_nul_as_malformed(client, text):
    key = api_key_for(SysadminFactory())
    line = (
        '{"event_type": "edx.course.enrollment.activated", "time": "2024-01-01T00:00:00Z", "username": "%s", '  # noqa: UP031
        '"context": {"course_id": "course-v1:A+B+C", "user_id": 5}, "event": {"mode": "audit"}}' % text
    )

    response = client.post(
        "/api/v0/ingest/events", data=line, content_type="application/x-ndjson", HTTP_AUTHORIZATION=key
    )

    assert response.status_code == 200
    assert (response.json()["malformed"], response.json()["added"]) == (1, 0)
    assert tracking_events_count() == 0


def test_an_escaped_backslash_before_u0000_is_plain_text_not_a_nul(client):
    key = api_key_for(SysadminFactory())
    event = {
        "event_type": "edx.course.enrollment.activated",
        "time": "2024-01-01T00:00:00Z",
        "username": "back\\u0000slash",
        "context": {"course_id": "course-v1:A+B+C", "user_id": 5},
        "event": {"mode": "audit"},
    }

    response = client.post(
        "/api/v0/ingest/events", data=json.dumps(event), content_type="application/x-ndjson", HTTP_AUTHORIZATION=key
    )

    usernames = tracking_events_scan(columns=["username"]).collect()["username"].to_list()
    assert (response.json()["added"], usernames) == (1, ["back\\u0000slash"])
