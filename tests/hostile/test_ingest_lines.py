"""Lines that clients upload: Open edX tracking-log events (the batch ingest endpoint), assessment sessions (the
sessions NDJSON endpoint) and the membership files of a dataset. A bad line is reported by its number or refuses the
upload as a whole; it never crashes the parser, and a refused upload stores nothing."""

import json
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.common.api.native import Native
from apps.common.testing.factories import SysadminFactory, api_key_for
from apps.common.testing.hostile import body_with, json_values, raw_bodies, raw_fragments, to_bytes
from apps.course_analytics.selectors import tracking_events_count
from apps.course_analytics.services.ingest import malformed_reason
from apps.datasets.aggregation import InputFileError, memberships_parse
from apps.datasets.models import Session
from tests.hostile.conftest import answered

FIXTURES = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}
EVENT = {"event_type": "edx.course.enrollment.activated", "time": "2024-01-01T00:00:00Z", "username": "ann",
         "event_source": "server", "context": {"course_id": "course-v1:A+B+C", "user_id": 5},
         "event": {"mode": "audit", "data": {"grade": 1.5, "currentTime": 3}}}  # fmt: skip
SESSION = {"session_id": "s1", "user_id": "u1", "activity_id": "a1", "score": 1, "max_score": 2,
           "attempted_max_score": 2, "unscored_max_score": 0, "status": "Completed",
           "dt_completed": "2024-01-01T00:00:00Z"}  # fmt: skip
MEMBER = {"user_id": "u1", "session_id": ["s1"], "group_path": ["D", "S"]}


def ndjson_of(template: dict, *, key: str) -> st.SearchStrategy[bytes]:
    """Good lines (the template, `key` numbered) around one line that is the template made hostile in one place,
    raw garbage or blank: the hostile line alone decides whether the file is refused."""
    good = st.integers(0, 3).map(
        lambda n: [to_bytes(json.dumps({**template, key: f"{template[key]}-{i}"})) for i in range(n)]
    )
    bad = st.one_of(body_with(template, whole=False), raw_fragments.map(to_bytes), st.sampled_from([b"", b"  ", b"\r"]))
    return st.tuples(good, bad, st.integers(0, 3)).map(lambda p: b"\n".join([*p[0][: p[2]], p[1], *p[0][p[2] :]]))


def line_with(template: dict, field: str, text: str) -> bytes:
    """`template` as a JSON line with `field` holding the raw JSON `text`."""
    return json.dumps({name: value for name, value in template.items() if name != field})[:-1].encode() + (
        f', "{field}": {text}}}'.encode()
    )


@pytest.fixture
def key(db):
    return api_key_for(SysadminFactory())


@settings(max_examples=200, deadline=None)
@example(line="[" * 5_000)  # defect found: json.loads's RecursionError escaped as a 500
@given(line=raw_fragments | json_values.map(json.dumps) | st.text())
def test_the_reason_a_line_is_malformed_is_always_words(line):
    assert isinstance(malformed_reason(line), str)


@settings(max_examples=80, **FIXTURES)
@given(
    body=ndjson_of(EVENT, key="username")
    | raw_bodies
    | st.lists(json_values).map(lambda items: to_bytes(json.dumps(items)))
)
def test_tracking_lines_are_ingested_or_reported_by_line_number(client, key, body):
    response = client.post("/api/v0/ingest/events", data=body, content_type="application/x-ndjson",
                           HTTP_AUTHORIZATION=key)  # fmt: skip

    report = answered(response, Native)
    assert response.status_code == 200, report
    assert report["malformed"] == len(report["problems"]) <= report["lines"]
    for problem in report["problems"]:
        number = int(re.match(r"^request:(\d+): .+", problem, re.S)[1])
        assert 1 <= number <= report["lines"]
    assert tracking_events_count() >= report["added"]


@settings(max_examples=100, **FIXTURES)
@given(body=ndjson_of(SESSION, key="session_id"))
# Defects found: a NUL or an escaped lone surrogate (decoded by polars to a NUL) was a 500 on PostgreSQL and stored
# on SQLite; a dt_completed outside the years 1 to 9999 once in UTC was stored and made the row unreadable.
@example(body=line_with(SESSION, "session_id", '"a\\u0000b"'))
@example(body=line_with(SESSION, "user_id", '"\\ud800"'))
@example(body=line_with(SESSION, "status", '"x\\u0000"'))
@example(body=line_with(SESSION, "dt_completed", '"0001-01-01T00:00:00+14:00"'))
@example(body=line_with(SESSION, "dt_completed", '"9999-12-31T23:59:59-14:00"'))
def test_session_lines_are_stored_or_refused_by_line_number_and_all_or_nothing(client, key, body):
    before = Session.objects.count()

    response = client.post("/api/v1/datasets/sessions/", data=body, content_type="application/x-ndjson",
                           HTTP_AUTHORIZATION=f"Token {key}")  # fmt: skip

    report = answered(response, Native)
    if response.status_code >= 400:
        assert re.search(r"line|UTF-8", report["detail"]), report
        assert Session.objects.count() == before
    else:
        assert Session.objects.count() == before + report["added"]


@settings(max_examples=150, deadline=None)
# Defect found: a NUL, an escaped lone surrogate (a NUL once polars decodes it) or the key separator \x1f in a user id
# or a group name was accepted, and reached the output files' keys.
@example(content=line_with(MEMBER, "user_id", '"a\\u0000"'), depth=2)
@example(content=line_with(MEMBER, "group_path", '["\\ud800", "S"]'), depth=2)
@given(content=ndjson_of(MEMBER, key="user_id") | raw_bodies, depth=st.integers(0, 3))
def test_a_membership_file_is_parsed_or_refused_naming_its_lines(content, depth):
    try:
        outcome = memberships_parse(content, depth=depth, file_index=2).columns
    except InputFileError as exc:
        outcome = exc.message

    assert outcome == ["user_id", "session_ids", "path"] or re.match(
        r"^(Bad file 2: not UTF-8|Bad lines: file 2 line \d+: .+)", outcome, re.S
    ), outcome
