"""Tracking log and profile CSV in, nightly rollup through Celery, every endpoint checked against counts computed
here independently, by replaying the raw lines in plain Python."""

import csv
import gzip
import io
import json
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command

from apps.common.models import JobRun
from apps.common.testing.factories import UserFactory, api_key_for
from apps.common.testing.fixtures import wait_for
from apps.course_analytics.demo import profile_csv_lines, tracking_log_lines
from apps.course_analytics.tasks import rollup_day

COURSES = ["course-v1:TallyX+MATH101+2026_T1", "TallyX/HIST100/2025_Fall"]
START, DAYS = date(2026, 10, 5), 21
DAY = START + timedelta(days=DAYS - 1)  # a Sunday: its ISO week is complete
WEEK = ("2026-10-19T000000", "2026-10-26T000000")
GENDERS = {"f": "female", "m": "male", "o": "other"}


def _events(lines):
    for line in lines:
        event = json.loads(line)
        payload = event["event"] if isinstance(event["event"], dict) else json.loads(event["event"])
        yield event, payload


def expected_enrollment(lines, profiles):
    """Replay each learner's enrollment events in order: state and mode at the end of DAY."""
    state = {}
    for event, payload in _events(lines):
        if not event["event_type"].startswith("edx.course.enrollment."):
            continue
        key = (payload["course_id"], payload["user_id"])
        enrolled, _ = state.get(key, (False, None))
        if event["event_type"] == "edx.course.enrollment.activated":
            enrolled = True
        elif event["event_type"] == "edx.course.enrollment.deactivated":
            enrolled = False
        state[key] = (enrolled, payload["mode"])
    result = {}
    for course in COURSES:
        learners = {user: value for (c, user), value in state.items() if c == course}
        modes = defaultdict(int)
        genders = dict.fromkeys(["female", "male", "other", "unknown"], 0)
        for user, (enrolled, mode) in learners.items():
            if enrolled:
                modes["professional" if mode == "no-id-professional" else mode] += 1
                genders[GENDERS.get(profiles[user]["gender"], "unknown")] += 1
        result[course] = {
            "count": sum(enrolled for enrolled, _ in learners.values()),
            "cumulative_count": len(learners),
            "modes": dict(modes),
            "genders": genders,
        }
    return result


def expected_activity(lines):
    """Distinct learners per course and label in DAY's ISO week."""
    week_start = DAY - timedelta(days=DAY.weekday())
    users = defaultdict(set)
    for event, _ in _events(lines):
        day = datetime.fromisoformat(event["time"]).date()
        user = event["context"]["user_id"]
        if not week_start <= day <= DAY or user is None or event["event_source"] == "task":
            continue
        if event["event_type"].startswith("edx.course.enrollment."):
            continue
        course = event["context"]["course_id"]
        users[(course, "any")].add(user)
        if event["event_type"] == "problem_check":
            users[(course, "attempted_problem")].add(user)
        if event["event_type"] == "play_video" and event["event_source"] == "browser":
            users[(course, "played_video")].add(user)
        if event["event_type"].startswith("edx.forum.") and event["event_type"].endswith(".created"):
            users[(course, "posted_forum")].add(user)
    return {key: len(value) for key, value in users.items()}


def expected_video_starts(lines):
    """Distinct learners whose viewing (a play up to their next event on the video) began in the first 5 s."""
    last_play, starters = {}, defaultdict(set)
    for event, payload in _events(lines):
        if event["event_type"] not in ("play_video", "pause_video"):
            continue
        key = (event["context"]["course_id"], payload["id"], event["context"]["user_id"])
        if key in last_play and payload["currentTime"] - last_play[key] >= 0.25 and last_play[key] < 5:
            starters[key[:2]].add(key[2])
        last_play.pop(key, None)
        if event["event_type"] == "play_video":
            last_play[key] = payload["currentTime"]
    return {f"{course}|{video}": len(users) for (course, video), users in starters.items()}


@pytest.fixture
def ingested(tmp_path, transactional_db):
    lines = list(tracking_log_lines(course_ids=COURSES, learners=80, start=START, days=DAYS, seed=11))
    log = tmp_path / "tracking.log.gz"
    with gzip.open(log, "wt") as handle:
        handle.write("\n".join(lines[: len(lines) // 2]) + "\n{broken json\n")
    plain = tmp_path / "tracking.log"
    plain.write_text("\n".join(lines[len(lines) // 2 :]) + "\n")
    profiles_file = tmp_path / "profiles.csv"
    profiles_file.write_text("\n".join(profile_csv_lines(learners=80, seed=11)) + "\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest_tracking_logs", str(log), str(plain), stdout=out, stderr=err, verbosity=0)
    call_command("ingest_user_profiles", str(profiles_file), stdout=io.StringIO())
    profiles = {int(row["user_id"]): row for row in csv.DictReader(io.StringIO(profiles_file.read_text()))}
    return lines, profiles, out.getvalue(), err.getvalue(), log


def _run_nightly(queue: str | None) -> None:
    if queue is None:
        rollup_day.delay(DAY.isoformat())
    else:
        rollup_day.apply_async(kwargs={"day": DAY.isoformat()}, queue=queue)
    assert wait_for(lambda: JobRun.objects.filter(key=DAY.isoformat(), status="succeeded").exists())


@pytest.fixture
def nightly_queue(request):
    """A real worker's queue when a broker is configured (PostgreSQL runs); in-process otherwise (SQLite runs)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    return request.getfixturevalue("celery_worker_queue")


def test_ingest_reports_malformed_lines_with_file_and_line(ingested):
    lines, _, out, err, log = ingested

    assert f"lines={len(lines) + 1} added={len(lines)} skipped=0 malformed=1" in out
    assert f"malformed: {log}:{len(lines) // 2 + 1}: not JSON" in err


def test_every_endpoint_matches_the_replayed_log(ingested, nightly_queue, client):
    lines, profiles, *_ = ingested
    # the history is backfilled once, as when a site's logs are first loaded; then the nightly run takes over
    day_before = (DAY - timedelta(days=1)).isoformat()
    call_command("backfill_course_analytics", "--from", START.isoformat(), "--to", day_before, verbosity=0)
    _run_nightly(nightly_queue)
    token = api_key_for(UserFactory(username="dashboard"), analytics=True)
    enrollment, activity, starts = (
        expected_enrollment(lines, profiles),
        expected_activity(lines),
        expected_video_starts(lines),
    )

    def get(course: str, path: str):
        response = client.get(f"/api/v0/courses/{course}/{path}", HTTP_AUTHORIZATION=f"Token {token}")
        assert response.status_code == 200, (path, response.content)
        return response.json()

    for course in COURSES:
        expected = enrollment[course]
        [daily] = get(course, "enrollment/")
        [modes] = get(course, "enrollment/mode/")
        [genders] = get(course, "enrollment/gender/")
        [week] = get(course, "activity/")
        assert (daily["date"], daily["count"]) == (DAY.isoformat(), expected["count"])
        assert (modes["count"], modes["cumulative_count"]) == (expected["count"], expected["cumulative_count"])
        assert {mode: modes[mode] for mode in expected["modes"] if mode in modes} == {
            mode: count for mode, count in expected["modes"].items() if mode in modes
        }
        assert {key: genders[key] for key in expected["genders"]} == expected["genders"]
        assert sum(row["count"] for row in get(course, "enrollment/location/")) == expected["count"]
        assert sum(row["count"] for row in get(course, "enrollment/birth_year/")) == expected["count"]
        assert sum(row["count"] for row in get(course, "enrollment/education/")) == expected["count"]
        assert (week["interval_start"], week["interval_end"]) == WEEK
        for activity_type in ("any", "attempted_problem", "played_video", "posted_forum"):
            assert week.get(activity_type) == activity.get((course, activity_type)), activity_type
        assert get(course, "recent_activity/")["count"] == activity[(course, "any")]
        videos = get(course, "videos/")
        assert {video["pipeline_video_id"]: video["users_at_start"] for video in videos} == {
            key: count for key, count in starts.items() if key.startswith(course + "|")
        }


@pytest.mark.usefixtures("ingested")
def test_rerunning_a_day_changes_nothing():
    call_command("backfill_course_analytics", "--from", DAY.isoformat(), "--to", DAY.isoformat(), verbosity=0)
    from apps.course_analytics.models import EnrollmentModeDaily

    first = list(EnrollmentModeDaily.objects.order_by("course_id", "mode").values("course_id", "mode", "count"))
    call_command("backfill_course_analytics", "--from", DAY.isoformat(), "--to", DAY.isoformat(), verbosity=0)

    assert list(EnrollmentModeDaily.objects.order_by("course_id", "mode").values("course_id", "mode", "count")) == first
    assert JobRun.objects.filter(key=DAY.isoformat(), status="succeeded").count() == 2


@pytest.mark.usefixtures("ingested")
def test_a_day_that_fails_halfway_keeps_the_previous_figures(monkeypatch):
    from apps.course_analytics.models import EnrollmentDaily
    from apps.course_analytics.services import rollups

    call_command("backfill_course_analytics", "--from", DAY.isoformat(), "--to", DAY.isoformat(), verbosity=0)
    before = list(EnrollmentDaily.objects.values_list("course_id", "count", "created"))

    def broken_activity(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rollups, "activity_table", broken_activity)
    with pytest.raises(RuntimeError):
        rollups.course_analytics_rollup(day=DAY)

    assert list(EnrollmentDaily.objects.values_list("course_id", "count", "created")) == before
    assert JobRun.objects.filter(key=DAY.isoformat()).latest("started").error == "RuntimeError: disk full"
