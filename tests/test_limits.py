"""Every limit a client can meet, at the limit (accepted) and one past it (refused in the dialect's own shape, with
nothing written). The table in docs/operations.md ("Limits") names these tests and the older ones it relies on."""

import json

import pytest
from django.conf import settings
from django.test import override_settings

from apps.common.api.ckan import CKAN
from apps.common.api.native import Native
from apps.common.api.sunbird import Sunbird
from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for
from apps.common.testing.matchers import ANY_INT
from apps.common.testing.wire import error_shape_holds
from apps.course_analytics.selectors import tracking_events_count
from apps.datasets.models import DatasetJob, DatasetOutputFile, Session
from apps.datasets.services import dataset_build
from apps.datasets.spec import MAX_FILE_COUNT, MAX_GROUP_PATHS, MAX_LEVELS, MAX_LINE_BYTES, MAX_ROWS_PER_PAGE
from apps.datasets.tests.conftest import (
    SEED_SCORES,
    data_api,
    dataset_request,
    dataset_storage,  # noqa: F401 (an autouse fixture: dataset files in the test's own folder)
    local_path,
    ndjson,
    seed_lines,
    signed_form,
)
from apps.datasets.tests.factories import ConsumerFactory, SessionFactory
from apps.groups.models import Group
from apps.stats.query import MAX_CONDITIONS_PER_GROUP, MAX_QUERY_GROUPS, MAX_VALUE_LENGTH

pytestmark = pytest.mark.django_db

COURSE = "course-v1:edX+DemoX+Demo_2014"
DATASETS = "/v2023.3.LTS/reports/datasets"
INGEST_PATHS = ("/api/v0/ingest/", "/api/v1/datasets/sessions/", "/datasets/files/")


@pytest.fixture
def consumer(db):
    return ConsumerFactory()


@pytest.fixture
def seed_sessions(db):
    """The sessions that seed_lines() lists."""
    return [SessionFactory(session_id=f"s{n}", user_id=f"u{n}", score=score) for n, score in enumerate(SEED_SCORES)]


def _sysadmin_headers() -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {api_key_for(SysadminFactory())}"}


def _by_path(limit: int) -> dict:
    return {"REQUEST_MAX_BYTES_BY_PATH": dict.fromkeys(INGEST_PATHS, limit)}


def _event(username: str = "ada", pad: int = 0) -> str:
    """One enrollment event of the demo course, `pad` spaces longer (JSON allows them between tokens)."""
    event = {
        "username": username,
        "event_source": "server",
        "event_type": "edx.course.enrollment.activated",
        "time": "2014-01-01T10:00:00Z",
        "context": {"course_id": COURSE, "user_id": 7},
        "event": {"course_id": COURSE, "user_id": 7, "mode": "audit"},
    }
    return json.dumps(event)[:-1] + " " * pad + "}"


def _session(session_id: str = "s1", pad: int = 0) -> str:
    session = {"session_id": session_id, "user_id": "u1", "activity_id": "a1", "score": 1, "max_score": 2}
    return json.dumps(session | {"attempted_max_score": 2})[:-1] + " " * pad + "}"


def _padded(line: str, size: int) -> str:
    """`line` (a JSON object) padded with spaces before its closing brace to `size` bytes."""
    return line[:-1] + " " * (size - len(line.encode())) + "}"


# Request bodies (TALLY_REQUEST_MAX_BYTES)


@pytest.mark.parametrize(
    ("path", "dialect", "body", "created"),
    [
        ("/api/v1/groups/", Native, {"name": "Maths"}, 201),
        ("/api/group/v1/create", Sunbird, {"request": {"name": "Maths"}}, 200),
    ],
    ids=["native", "sunbird"],
)
def test_a_body_of_request_max_bytes_is_read_and_one_byte_more_is_a_413(client, path, dialect, body, created):
    user = UserFactory()
    headers = {"HTTP_AUTHORIZATION": f"Token {api_key_for(user)}"}
    if dialect is Sunbird:
        headers = {
            "HTTP_AUTHORIZATION": f"Bearer {api_key_for(user)}",
            "HTTP_X_AUTHENTICATED_USER_TOKEN": api_key_for(user),
        }
    raw = json.dumps(body).encode()
    at_limit, past_limit = raw + b" " * (1000 - len(raw)), raw + b" " * (1001 - len(raw))

    with override_settings(REQUEST_MAX_BYTES=1000):
        past = client.post(path, past_limit, content_type="application/json", **headers)
        nothing_written = not Group.objects.exists()
        at = client.post(path, at_limit, content_type="application/json", **headers)

    assert past.status_code == 413
    assert error_shape_holds(dialect, past.json())
    assert nothing_written
    assert at.status_code == created
    assert Group.objects.count() == 1


def test_the_default_request_limit_does_not_bound_the_ingest_endpoints(client):
    """The ingest endpoints read past TALLY_REQUEST_MAX_BYTES (and past Django's DATA_UPLOAD_MAX_MEMORY_SIZE, which
    follows it) up to their own limit."""
    filler = b"\n" * (settings.REQUEST_MAX_BYTES + 1)
    headers = _sysadmin_headers()

    events = client.post(
        "/api/v0/ingest/events", _event().encode() + filler, content_type="application/x-ndjson", **headers
    )
    sessions = client.post(
        "/api/v1/datasets/sessions/", _session().encode() + filler, content_type="application/x-ndjson", **headers
    )

    assert (events.status_code, events.json()["added"]) == (200, 1)
    assert (sessions.status_code, sessions.json()) == (200, {"lines": settings.REQUEST_MAX_BYTES + 1, "added": 1})


# Ingest bodies (TALLY_INGEST_MAX_BYTES)


def test_an_events_body_of_ingest_max_bytes_is_stored_and_one_byte_more_is_a_413(client):
    headers = _sysadmin_headers()
    body = ("\n".join(_event(f"user{n}") for n in range(3))).encode()

    with override_settings(**_by_path(len(body) - 1)):
        past = client.post("/api/v0/ingest/events", body, content_type="application/x-ndjson", **headers)
    stored_after_refusal = tracking_events_count()
    with override_settings(**_by_path(len(body))):
        at = client.post("/api/v0/ingest/events", body, content_type="application/x-ndjson", **headers)

    assert past.status_code == 413
    assert error_shape_holds(Native, past.json())
    assert stored_after_refusal == 0
    assert (at.status_code, at.json()["added"]) == (200, 3)


def test_a_sessions_body_of_ingest_max_bytes_is_stored_and_one_byte_more_is_a_413(client):
    headers = _sysadmin_headers()
    body = ("\n".join(_session(f"s{n}") for n in range(3))).encode()

    with override_settings(**_by_path(len(body) - 1)):
        past = client.post("/api/v1/datasets/sessions/", body, content_type="application/x-ndjson", **headers)
    stored_after_refusal = Session.objects.count()
    with override_settings(**_by_path(len(body))):
        at = client.post("/api/v1/datasets/sessions/", body, content_type="application/x-ndjson", **headers)

    assert past.status_code == 413
    assert error_shape_holds(Native, past.json())
    assert stored_after_refusal == 0
    assert (at.status_code, at.json()) == (200, {"lines": 3, "added": 3})


# Dataset uploads (TALLY_DATASETS_UPLOAD_MAX_BYTES)


def _dataset(api_client, consumer, **overrides) -> tuple[str, list[str]]:
    request = dataset_request(**overrides)
    response = data_api(api_client, DATASETS, signed_form(consumer, request, "set"))
    assert response.status_code == 200, response.content
    return request["dataset_id"], response.json()["data"].get("input_files", [])


def _learnosity_error(message: str, code: int) -> dict:
    return {"meta": {"status": False, "timestamp": ANY_INT, "message": message, "code": code}, "data": None}


def test_an_upload_of_upload_max_bytes_is_stored_and_one_byte_more_is_a_413(api_client, consumer):
    _, (upload,) = _dataset(api_client, consumer)
    content = ndjson(seed_lines())

    with override_settings(**_by_path(len(content) - 1)):
        past = api_client.put(local_path(upload), content, content_type="application/x-ndjson")
    with override_settings(**_by_path(len(content))):
        at = api_client.put(local_path(upload), content, content_type="application/x-ndjson")

    assert past.status_code == 413
    assert past.json()["meta"]["status"] is False
    assert (at.status_code, at.json()["data"]["size"]) == (200, len(content))


# Native pages (page_size up to 500)


def test_a_native_page_of_500_is_served_and_501_is_a_400(api_client):
    headers = {"HTTP_AUTHORIZATION": f"Token {api_key_for(SysadminFactory())}"}
    api_client.post("/api/v1/groups/", {"name": "Maths"}, format="json", **headers)

    at = api_client.get("/api/v1/groups/", {"page_size": 500}, **headers)
    past = api_client.get("/api/v1/groups/", {"page_size": 501}, **headers)

    assert (at.status_code, at.json()["count"], len(at.json()["results"])) == (200, 1, 1)
    assert (past.status_code, past.json()["code"], past.json()["errors"]) == (
        400,
        "invalid",
        {"page_size": "Must be an integer from 1 to 500."},
    )


# CKAN get_group_count


@pytest.mark.parametrize(
    "query",
    [
        [{"query_group": [{"state": "active"}]}] * MAX_QUERY_GROUPS,
        [{"query_group": [{"state": "active"}] * MAX_CONDITIONS_PER_GROUP}],
        [{"query_group": [{"title": "x" * MAX_VALUE_LENGTH, "operator": "like"}]}],
    ],
    ids=["20-query-groups", "50-conditions", "1000-characters"],
)
def test_get_group_count_at_each_of_its_limits_answers(client, sysadmin_key, query):
    body = {"query": query, "start_date": "2024-01-01", "end_date": "2025-12-31", "date_field": "created"}

    response = client.post(
        "/api/3/action/get_group_count",
        json.dumps(body),
        content_type="application/json",
        HTTP_EDX_API_KEY=sysadmin_key,
    )

    assert (response.status_code, response.json()["success"], response.json()["result"]) == (200, True, {"count": 0})
    assert not error_shape_holds(CKAN, response.json())


# Datasets: file count, levels, rows per page, sessions a line, group paths and references a call


def test_a_dataset_of_100_files_10_levels_and_10000_rows_a_page_is_initialised(api_client, consumer):
    levels = [{"key": f"k{n}", "label": f"L{n}"} for n in range(MAX_LEVELS)]
    options = {"fields": ["population"], "user_fields": ["score"], "rows_per_page": MAX_ROWS_PER_PAGE}

    _, uploads = _dataset(api_client, consumer, file_count=MAX_FILE_COUNT, groups=levels, options=options)

    assert len(uploads) == MAX_FILE_COUNT


def test_rows_per_page_past_10000_is_a_400(api_client, consumer):
    request = dataset_request(options={"fields": ["population"], "rows_per_page": MAX_ROWS_PER_PAGE + 1})

    response = data_api(api_client, DATASETS, signed_form(consumer, request, "set"))

    assert (response.status_code, response.json()) == (
        400,
        _learnosity_error("Invalid parameter value: options.rows_per_page must be between 1 and 10000", 20004),
    )
    assert not DatasetJob.objects.exists()


def _built(api_client, consumer, lines: list, **overrides) -> DatasetJob:
    dataset_id, (upload,) = _dataset(api_client, consumer, **overrides)
    content = b"\n".join(line.encode() if isinstance(line, str) else json.dumps(line).encode() for line in lines)
    put = api_client.put(local_path(upload), content, content_type="application/x-ndjson")
    assert put.status_code == 200, put.content
    return dataset_build(dataset_id=dataset_id)


def test_a_line_of_50_sessions_is_built(api_client, consumer, seed_sessions):
    line = {"user_id": "x", "session_id": [f"s{n}" for n in range(50)], "group_path": ["a", "b", "c"]}

    job = _built(api_client, consumer, [*seed_lines()[:2], line])

    assert (job.status, job.error) == ("completed", "")


def test_group_paths_up_to_1000_a_get_and_one_more_is_a_400(api_client, consumer, seed_sessions):
    job = _built(api_client, consumer, seed_lines())
    paths = [["D0"]] * MAX_GROUP_PATHS

    def get(paths: list) -> tuple[int, dict]:
        request = {"dataset_type": "sessions-summary-by-group", "dataset_id": str(job.dataset.dataset_id)}
        response = data_api(api_client, DATASETS, signed_form(consumer, request | {"group_paths": paths}, "get"))
        return response.status_code, response.json()

    (at_status, at), past = get(paths), get([*paths, ["D1"]])

    assert (at_status, at["meta"]["records"], len(at["data"])) == (200, 1000, 1000)
    assert past == (400, _learnosity_error("Too many parameters passed: group_paths (at most 1000)", 20002))


def test_job_references_up_to_1000_a_get_and_one_more_is_a_400(api_client, consumer):
    references = [f"r{n}" for n in range(MAX_GROUP_PATHS)]

    at = data_api(api_client, "/v1/jobs", signed_form(consumer, {"references": references}, "get"))
    past = data_api(api_client, "/v1/jobs", signed_form(consumer, {"references": [*references, "x"]}, "get"))

    assert (at.status_code, at.json()["data"]) == (200, [])
    assert (past.status_code, past.json()) == (
        400,
        _learnosity_error("Too many parameters passed: references", 20002),
    )


# Line lengths: uploaded NDJSON (64 KiB a line) and tracking-log lines (TALLY_TRACKING_LINE_MAX_CHARS)


def test_a_membership_line_of_64_kib_is_built_and_one_byte_more_fails_the_job(api_client, consumer, seed_sessions):
    first, *rest = seed_lines()
    long_line = _padded(json.dumps(first), MAX_LINE_BYTES)

    at = _built(api_client, consumer, [long_line, *rest])
    past = _built(api_client, consumer, [_padded(json.dumps(first), MAX_LINE_BYTES + 1), *rest])

    assert (at.status, at.error) == ("completed", "")
    assert (past.status, past.error) == ("failed", "Bad lines: file 0 line 1: longer than 65536 bytes")
    assert not DatasetOutputFile.objects.filter(dataset=past.dataset).exists()


def test_a_session_line_of_64_kib_is_stored_and_one_byte_more_is_a_400(client):
    headers = _sysadmin_headers()
    past_body = f"{_session('s0')}\n{_padded(_session('s1'), MAX_LINE_BYTES + 1)}".encode()
    at_body = f"{_session('s0')}\n{_padded(_session('s1'), MAX_LINE_BYTES)}".encode()

    past = client.post("/api/v1/datasets/sessions/", past_body, content_type="application/x-ndjson", **headers)
    stored_after_refusal = Session.objects.count()
    at = client.post("/api/v1/datasets/sessions/", at_body, content_type="application/x-ndjson", **headers)

    assert (past.status_code, past.json()["code"]) == (400, "invalid")
    assert past.json()["detail"] == "Bad session lines 2: longer than 65536 bytes"
    assert stored_after_refusal == 0
    assert (at.status_code, at.json()) == (200, {"lines": 2, "added": 2})


def test_a_tracking_line_at_the_limit_is_stored_and_one_character_more_is_malformed(client, settings):
    headers = _sysadmin_headers()
    settings.TRACKING_LINE_MAX_CHARS = len(_event(pad=10))

    past = client.post("/api/v0/ingest/events", _event("bob", pad=11), content_type="application/x-ndjson", **headers)
    stored_after_refusal = tracking_events_count()
    at = client.post("/api/v0/ingest/events", _event("bob", pad=10), content_type="application/x-ndjson", **headers)

    assert (past.status_code, past.json()) == (
        200,
        {
            "lines": 1,
            "added": 0,
            "skipped": 0,
            "malformed": 1,
            "problems": [f"request:1: longer than {settings.TRACKING_LINE_MAX_CHARS} characters"],
        },
    )
    assert stored_after_refusal == 0
    assert (at.status_code, at.json()["added"], at.json()["malformed"]) == (200, 1, 0)


# Rows per dataset (TALLY_DATASETS_MAX_ROWS)


def test_a_dataset_of_max_rows_is_built_and_one_row_more_fails_the_job(api_client, consumer, seed_sessions, settings):
    settings.DATASETS_MAX_ROWS = len(seed_lines())

    at = _built(api_client, consumer, seed_lines())
    past = _built(api_client, consumer, [*seed_lines(), {"user_id": "x", "session_id": [], "group_path": ["a"] * 3}])

    assert (at.status, at.error) == ("completed", "")
    assert (past.status, past.error) == ("failed", "Too many rows: the dataset places more than 8 users in groups")
    assert not DatasetOutputFile.objects.filter(dataset=past.dataset).exists()


@pytest.mark.parametrize(
    ("field", "size"), [("session_id", 64), ("user_id", 255), ("activity_id", 255), ("status", 32)]
)
def test_a_session_field_at_its_column_width_is_stored_and_one_character_more_is_a_400(client, field, size):
    headers = _sysadmin_headers()

    def line(length: int) -> str:
        return json.dumps(json.loads(_session("s1")) | {field: "x" * length})

    past = client.post("/api/v1/datasets/sessions/", line(size + 1), content_type="application/x-ndjson", **headers)
    stored_after_refusal = Session.objects.count()
    at = client.post("/api/v1/datasets/sessions/", line(size), content_type="application/x-ndjson", **headers)

    assert (past.status_code, past.json()["code"]) == (400, "invalid")
    assert stored_after_refusal == 0
    assert (at.status_code, at.json()) == (200, {"lines": 1, "added": 1})
