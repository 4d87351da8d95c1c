"""A tracking log in, the refresh it starts run by a real Celery worker, and the aggregator's figures for every
member checked against figures computed here independently, by replaying the raw lines in plain Python."""

import json
import math
from collections import defaultdict
from datetime import date, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from apps.activity_agg.services import course_leaf_contents_set
from apps.common.models import JobRun
from apps.common.testing.fixtures import wait_for
from apps.course_analytics.demo import tracking_log_lines
from apps.groups.services import ActivitySpec, MemberSpec, group_create
from config.celery import app as celery_app

COURSES = ["course-v1:TallyX+AGG101+2026_T1", "course-v1:TallyX+AGG202+2026_T1"]
COURSE = COURSES[0]
LEAF_CONTENTS = 12


def expected_figures(lines: list[str]) -> dict[int, dict]:
    """Per LMS user enrolled in COURSE at the end of the log: contents completed (a correct server problem_check,
    or a pause/stop/seek inside a video's end segment; each content once), when the last of them was first
    completed, progress against LEAF_CONTENTS, and the sum of each problem's best grade with when the last of those
    bests was first reached."""
    events = sorted((json.loads(line) for line in lines), key=lambda event: event["time"])
    enrolled, first_done, best = {}, {}, {}
    for event in events:
        if event["context"]["course_id"] != COURSE or event["context"]["user_id"] is None:
            continue
        user, kind = event["context"]["user_id"], event["event_type"]
        payload = event["event"] if isinstance(event["event"], dict) else json.loads(event["event"])
        moment = datetime.fromisoformat(event["time"])
        if kind.startswith("edx.course.enrollment.") and kind != "edx.course.enrollment.mode_changed":
            enrolled[user] = kind == "edx.course.enrollment.activated"
        content = None
        if kind == "problem_check" and event["event_source"] == "server":
            if payload.get("success") == "correct":
                content = payload["problem_id"]
            if payload.get("grade") is not None:
                key = (user, payload["problem_id"])
                if key not in best or payload["grade"] > best[key][0]:
                    best[key] = (payload["grade"], moment)
        elif kind in ("pause_video", "stop_video", "seek_video"):
            duration = payload["duration"]
            if payload["currentTime"] >= math.floor(max(duration - 30, duration * 0.95) / 5) * 5:
                content = payload["id"]
        if content is not None:
            first_done.setdefault((user, content), moment)
    done, graded = defaultdict(list), defaultdict(list)
    for (user, _), moment in first_done.items():
        done[user].append(moment)
    for (user, _), grade_reached in best.items():
        graded[user].append(grade_reached)
    return {
        user: {
            "completedCount": float(len(done[user])),
            "progress": min(round(len(done[user]) * 100 / LEAF_CONTENTS, 2), 100.0),
            "last": max(done[user]) if done[user] else None,
            "score": float(sum(grade for grade, _ in graded[user])),
            "scored": max((moment for _, moment in graded[user]), default=None),
        }
        for user, is_enrolled in enrolled.items()
        if is_enrolled
    }


def ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


@pytest.mark.postgres
@pytest.mark.broker
def test_ingest_starts_a_refresh_that_a_worker_runs_and_the_endpoint_shows_its_figures(
    celery_worker_queue, tmp_path, sunbird, u1, monkeypatch
):
    # given a course whose leaf contents are known, and a log of two courses
    course_leaf_contents_set(course_id=COURSE, leaf_contents=LEAF_CONTENTS)
    lines = list(tracking_log_lines(course_ids=COURSES, learners=40, start=date(2026, 10, 5), days=21, seed=5))
    log = tmp_path / "tracking.log"
    log.write_text("\n".join(lines) + "\n")
    monkeypatch.setitem(celery_app.conf, "task_default_queue", celery_worker_queue)

    # when the log is ingested, the refresh it starts runs in the worker
    call_command("ingest_tracking_logs", str(log), verbosity=0)
    assert wait_for(
        lambda: JobRun.objects.filter(kind="activity_agg.refresh", status="succeeded").exists(), seconds=120
    )

    # then a group of the course's learners reads exactly the independently computed figures
    learners = get_user_model().objects.filter(username__startswith="learner")
    group = group_create(
        actor=u1.user,
        name="Cohort",
        members=[MemberSpec(str(user.public_id)) for user in learners],
        activities=[ActivitySpec(COURSE, "Course")],
    ).group
    request = {"request": {"groupId": str(group.public_id), "activityId": COURSE, "activityType": "Course"}}
    status, body = sunbird.call("post", "/api/data/v1/group/activity/agg", request, user_token=u1.token)

    expected = expected_figures(lines)
    users = {str(user.public_id): user.lms_user_id for user in learners}
    assert status == 200
    assert len(expected) >= 10
    assert any(figures["score"] for figures in expected.values())
    assert body["result"]["activity"]["agg"][0]["value"] == len(expected)
    assert {users[member["userId"]] for member in body["result"]["members"]} == set(expected)
    for member in body["result"]["members"]:
        figures = expected[users[member["userId"]]]
        assert member["agg"] == [
            {"metric": "completedCount", "value": figures["completedCount"], "lastUpdatedOn": ms(figures["last"])},
            {"metric": "progress", "value": figures["progress"], "lastUpdatedOn": ms(figures["last"])},
            {"metric": "score", "value": figures["score"], "lastUpdatedOn": ms(figures["scored"])},
        ]
    latest = max(figures["last"] for figures in expected.values() if figures["last"])
    assert body["result"]["activity"]["agg"][0]["lastUpdatedOn"] == ms(latest)
