import hashlib
import io
import json
import uuid
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for
from apps.course_analytics.models import EnrollmentDaily, EnrollmentModeDaily
from apps.course_analytics.selectors import tracking_events_scan
from apps.course_analytics.services.ingest import events_frame, tracking_lines_ingest
from apps.course_analytics.services.rollups import course_analytics_rollup, enrollment_states

COURSE = "course-v1:edX+DemoX+Demo_2014"
pytestmark = pytest.mark.django_db


def enrollment(kind: str, when: str, user_id: int = 7, mode: str = "audit", username: str = "ada") -> str:
    return json.dumps(
        {
            "username": username,
            "event_source": "server",
            "event_type": f"edx.course.enrollment.{kind}",
            "time": when,
            "context": {"course_id": COURSE, "user_id": user_id},
            "event": {"course_id": COURSE, "user_id": user_id, "mode": mode},
        }
    )


def states(lines: list[str], day: str) -> list[tuple]:
    tracking_lines_ingest(lines=lines, source="test")
    frame = enrollment_states(first=date.fromisoformat(day), last=date.fromisoformat(day))
    return sorted((row["lms_user_id"], row["at_end"], row["mode"]) for row in frame.to_dicts())


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([("activated", "2014-01-01T10:00:00Z", "audit")], (7, 1, "audit")),
        (
            [("activated", "2014-01-01T10:00:00Z", "audit"), ("deactivated", "2014-01-01T11:00:00Z", "audit")],
            (7, 0, "audit"),
        ),
        (
            [("deactivated", "2014-01-01T10:00:00Z", "audit"), ("activated", "2014-01-01T11:00:00Z", "honor")],
            (7, 1, "honor"),
        ),
        (
            [("activated", "2014-01-01T10:00:00Z", "audit"), ("mode_changed", "2014-01-01T12:00:00Z", "verified")],
            (7, 1, "verified"),
        ),
        ([("deactivated", "2014-01-01T10:00:00Z", "audit")], (7, 0, "audit")),
        ([("mode_changed", "2014-01-01T10:00:00Z", "verified")], (7, 0, "verified")),
        (
            [
                ("activated", "2014-01-01T10:00:00Z", "audit"),
                ("activated", "2014-01-01T11:00:00Z", "honor"),
                ("deactivated", "2014-01-01T12:00:00Z", "honor"),
            ],
            (7, 0, "honor"),
        ),
    ],
    ids=[
        "enrolled",
        "same-day unenroll",
        "re-enrol",
        "upgrade",
        "deactivation first",
        "mode change only",
        "duplicate activation",
    ],
)
def test_end_of_day_state_follows_the_reference_state_machine(events, expected):
    lines = [enrollment(kind, when, mode=mode) for kind, when, mode in events]

    assert states(lines, "2014-01-01") == [expected]


def test_events_after_the_day_do_not_count():
    lines = [enrollment("activated", "2014-01-01T10:00:00Z"), enrollment("deactivated", "2014-01-02T10:00:00Z")]

    assert states(lines, "2014-01-01") == [(7, 1, "audit")]


def test_cumulative_counts_everyone_who_ever_enrolled_and_modes_split_it():
    tracking_lines_ingest(
        lines=[
            enrollment("activated", "2014-01-01T10:00:00Z", user_id=1, username="a"),
            enrollment("activated", "2014-01-01T10:00:00Z", user_id=2, username="b", mode="verified"),
            enrollment("deactivated", "2014-01-02T10:00:00Z", user_id=1, username="a"),
        ],
        source="test",
    )

    course_analytics_rollup(day=date(2014, 1, 2))

    daily = EnrollmentDaily.objects.get()
    assert (daily.count, daily.cumulative_count) == (1, 2)
    modes = {row.mode: (row.count, row.cumulative_count) for row in EnrollmentModeDaily.objects.all()}
    assert modes == {"audit": (0, 1), "verified": (1, 1)}


def test_ingest_makes_learners_tally_users_with_their_lms_id_and_is_idempotent():
    UserFactory(username="ada")
    lines = [
        enrollment("activated", "2014-01-01T10:00:00Z"),
        enrollment("activated", "2014-01-01T10:00:00Z", 8, username="bo"),
    ]

    first = tracking_lines_ingest(lines=lines, source="test")
    second = tracking_lines_ingest(lines=lines, source="test")

    stored = tracking_events_scan(columns=["event_key"]).collect().height
    assert (first.added, second.added, stored) == (2, 0, 2)
    users = dict(get_user_model().objects.filter(username__in=["ada", "bo"]).values_list("username", "lms_user_id"))
    assert users == {"ada": 7, "bo": 8}


def test_an_lms_id_stays_with_the_user_who_has_it_and_new_learners_are_whole_users():
    # given ada carrying LMS id 7, and cy known to Tally before any event of theirs
    UserFactory(username="ada", lms_user_id=7)
    UserFactory(username="cy")
    lines = [
        enrollment("activated", "2014-01-01T10:00:00Z", 7, username="ada-renamed"),
        enrollment("activated", "2014-01-01T11:00:00Z", 9, username="cy"),
        enrollment("activated", "2014-01-01T12:00:00Z", 10, username="dee"),
    ]

    # when their events are ingested (the batch endpoint's path is the same)
    tracking_lines_ingest(lines=lines, source="test")

    # then id 7 stays ada's (no second user for it), cy gets 9, and dee is a new user with an id of their own and
    # no usable password
    users = {user.username: user for user in get_user_model().objects.all()}
    assert {name: user.lms_user_id for name, user in users.items()} == {"ada": 7, "cy": 9, "dee": 10}
    assert (users["dee"].public_id is not None, users["dee"].has_usable_password()) == (True, False)


def test_new_learners_get_public_ids_of_their_own_random_as_uuid4():
    lines = [enrollment("activated", "2014-01-01T10:00:00Z", n, username=f"learner{n}") for n in range(1, 41)]

    tracking_lines_ingest(lines=lines, source="test")

    public_ids = list(get_user_model().objects.values_list("public_id", flat=True))
    assert (len(public_ids), len(set(public_ids))) == (40, 40)
    assert {(public_id.version, public_id.variant) for public_id in public_ids} == {(4, uuid.RFC_4122)}


def test_a_line_is_keyed_stripped_as_python_strips_it():
    # given a line ingested once as it is, then again wrapped in separators Python counts as whitespace
    line = enrollment("activated", "2014-01-01T10:00:00Z")

    first = tracking_lines_ingest(lines=[line], source="test")
    again = tracking_lines_ingest(lines=[f"\x1f {line}\x1c\u3000\n"], source="test")

    # then it is the same event (its key is the hash of the stripped line)
    assert (first.added, again.added, again.malformed) == (1, 0, 0)


def test_a_line_s_key_is_the_sha256_of_its_utf8_bytes_as_hashlib_gives_it():
    # Keys written before the hashing moved to native code came from hashlib: the same line must keep its key, and
    # the ingest's path (stripped, parsed as a batch) must key it as the line alone does.
    lines = [
        json.dumps(json.loads(enrollment("activated", "2014-01-01T10:00:00Z", n, username=name)), ensure_ascii=False)
        for n, name in enumerate(("ada", "zoë", "学生", "😀"), start=1)
    ]
    assert all(not line.isascii() for line in lines[1:])

    keys = events_frame(lines)["event_key"].to_list()
    tracking_lines_ingest(lines=[f"  {line} " for line in lines], source="test")

    expected = [hashlib.sha256(line.encode()).hexdigest() for line in lines]
    assert keys == expected
    assert sorted(tracking_events_scan(columns=["event_key"]).collect()["event_key"]) == sorted(expected)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("nope", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"time": "2014-01-01T00:00:00Z"}', "no event_type"),
        ('{"event_type": "x", "time": "yesterday"}', "bad time 'yesterday'"),
    ],
)
def test_malformed_lines_are_reported_by_line(line, reason):
    report = tracking_lines_ingest(lines=[enrollment("activated", "2014-01-01T10:00:00Z"), line], source="f.log")

    assert (report.added, report.malformed, report.problems) == (1, 1, [f"f.log:2: {reason}"])


def test_events_outside_a_course_are_skipped():
    line = json.dumps({"event_type": "page_view", "time": "2014-01-01T00:00:00Z", "context": {"course_id": "nope"}})

    report = tracking_lines_ingest(lines=[line], source="f.log")

    assert (report.added, report.skipped, report.malformed) == (0, 1, 0)


def test_the_batch_endpoint_takes_json_arrays_and_ndjson(client):
    headers = {"HTTP_AUTHORIZATION": f"Token {api_key_for(SysadminFactory())}"}
    events = [
        json.loads(enrollment("activated", "2014-01-01T10:00:00Z")),
        json.loads(enrollment("deactivated", "2014-01-02T10:00:00Z")),
    ]

    ndjson = "\n".join(json.dumps(e) for e in events) + "\nbad"

    as_array = client.post("/api/v0/ingest/events", json.dumps(events), content_type="application/json", **headers)
    array_again = client.post("/api/v0/ingest/events", json.dumps(events), content_type="application/json", **headers)
    client.post("/api/v0/ingest/events", ndjson, content_type="application/x-ndjson", **headers)
    as_ndjson = client.post("/api/v0/ingest/events", ndjson, content_type="application/x-ndjson", **headers)

    assert as_array.json() == {"lines": 2, "added": 2, "skipped": 0, "malformed": 0, "problems": []}
    assert array_again.json()["added"] == 0
    assert as_ndjson.json() == {
        "lines": 3,
        "added": 0,
        "skipped": 0,
        "malformed": 1,
        "problems": ["request:3: not JSON"],
    }


def test_the_batch_endpoint_is_for_staff_and_size_limited(client):
    learner = client.post(
        "/api/v0/ingest/events",
        "[]",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {api_key_for(UserFactory())}",
    )
    with override_settings(REQUEST_MAX_BYTES_BY_PATH={"/api/v0/ingest/": 10}):
        too_big = client.post(
            "/api/v0/ingest/events",
            "[" + "1," * 20 + "1]",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {api_key_for(SysadminFactory())}",
        )

    assert learner.status_code == 403
    assert too_big.status_code == 413


@pytest.mark.usefixtures("one_throttle_window")
@override_settings(API_THROTTLE_RATE="2/minute")
def test_requests_past_the_rate_are_throttled(client):
    from django.core.cache import cache

    cache.clear()
    headers = {"HTTP_AUTHORIZATION": f"Token {api_key_for(UserFactory(), analytics=True)}"}
    statuses = [client.get(f"/api/v0/courses/{COURSE}/enrollment/", **headers).status_code for _ in range(3)]

    assert statuses == [404, 404, 429]


def test_a_range_in_one_pass_gives_the_rows_of_its_days_one_by_one():
    from datetime import timedelta

    from apps.course_analytics.demo import profile_csv_lines, tracking_log_lines
    from apps.course_analytics.models import ActivityWeekly, EnrollmentGenderDaily, EnrollmentLocationDaily
    from apps.course_analytics.services.ingest import learner_profiles_ingest
    from apps.course_analytics.services.rollups import course_analytics_rollup_range

    first = date(2025, 3, 3)
    tracking_lines_ingest(lines=tracking_log_lines(course_ids=[COURSE], learners=60, start=first, days=14), source="t")
    learner_profiles_ingest(stream=io.StringIO("\n".join(profile_csv_lines(learners=60))), source="p")
    models = (EnrollmentDaily, EnrollmentModeDaily, EnrollmentGenderDaily, EnrollmentLocationDaily, ActivityWeekly)

    def snapshot():
        rows = {
            m: [tuple(v for k, v in r.items() if k not in ("id", "created")) for r in m.objects.values()]
            for m in models
        }
        return {model: sorted(values, key=repr) for model, values in rows.items()}

    course_analytics_rollup_range(first=first, last=first + timedelta(days=13))
    in_one_pass = snapshot()
    for offset in range(14):
        course_analytics_rollup(day=first + timedelta(days=offset))

    assert snapshot() == in_one_pass
    assert len(in_one_pass[EnrollmentDaily]) == 14
    assert len({row[1] for row in in_one_pass[ActivityWeekly]}) == 2


@pytest.mark.django_db
def test_a_profile_export_writes_only_the_profiles_it_changes():
    from apps.course_analytics.models import LearnerProfile
    from apps.course_analytics.services.ingest import learner_profiles_ingest

    header = "user_id,year_of_birth,level_of_education,gender,country"
    export = [header, "7,1990,b,f,NO", "8,,hs,,KE"]
    first = learner_profiles_ingest(stream=io.StringIO("\n".join(export)), source="p")
    written = dict(LearnerProfile.objects.values_list("lms_user_id", "updated"))
    again = learner_profiles_ingest(stream=io.StringIO("\n".join(export)), source="p")
    changed = learner_profiles_ingest(stream=io.StringIO("\n".join([header, "7,1990,b,m,NO", "8,,hs,,KE"])), source="p")

    assert (first.added, again.added, changed.added) == (2, 0, 1)
    updated = dict(LearnerProfile.objects.values_list("lms_user_id", "updated"))
    assert updated[8] == written[8]
    assert updated[7] > written[7]
    assert LearnerProfile.objects.get(lms_user_id=7).gender == "m"
