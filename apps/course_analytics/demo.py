"""Synthetic Open edX data in the platform's real formats: tracking-log lines and the profile CSV export.

Deterministic for a seed. Used by seed_demo (so that `make run` shows real figures) and by the benchmarks.
"""

import functools
import io
import json
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from opaque_keys.edx.keys import CourseKey

from apps.common.dates import day_start
from apps.common.demo import DEMO_COURSE_IDS
from apps.course_analytics.selectors import tracking_events_days
from apps.course_analytics.services.ingest import learner_profiles_ingest, tracking_lines_ingest
from apps.course_analytics.services.rollups import course_analytics_backfill, yesterday

VIDEO_DURATION_SECONDS = (180, 600)
MODES = ("audit", "honor", "verified", "professional", "no-id-professional", "credit", "masters")
MODE_WEIGHTS = (40, 10, 30, 5, 2, 2, 1)
GENDERS = ("m", "f", "o", "", "x")
EDUCATION = ("el", "jhs", "hs", "a", "b", "m", "p", "p_se", "none", "other", "", "weird")
COUNTRIES = ("US", "CA", "IN", "NO", "KE", "FR", "BR", "", "A1", "EU", "ZZ")


def _block_id(course_id: str, block_type: str, name: str) -> str:
    key = CourseKey.from_string(course_id)
    return f"block-v1:{key.org}+{key.course}+{key.run}+type@{block_type}+block@{name}"


@functools.cache
def _org(course_id: str) -> str:
    return str(CourseKey.from_string(course_id).org)


def tracking_line(
    *, username: str, user_id: int, course_id: str, event_type: str, source: str, moment: datetime,
    event: dict | str, page: str | None = None,
) -> str:  # fmt: skip
    """One tracking-log line as the LMS writes it (the demo's, the bench's and the tests' events)."""
    org = _org(course_id)  # parsed once per course: the full bench writes ten million lines
    return json.dumps(
        {
            "username": username,
            "event_source": source,
            "name": event_type,
            "event_type": event_type,
            "time": moment.isoformat(),
            "ip": "10.0.0.1",
            "agent": "Mozilla/5.0",
            "host": "courses.example.org",
            "page": page,
            "accept_language": "en-US",
            "context": {"course_id": course_id, "user_id": user_id, "org_id": org, "path": "/event"},
            "event": event if source == "server" else json.dumps(event),
        }
    )


def _learner_day(rng: random.Random, *, username: str, user_id: int, course_id: str, day: date,
                 videos: list[tuple[str, int]]) -> Iterator[str]:  # fmt: skip
    start = day_start(day) + timedelta(seconds=rng.randint(0, 80000))
    common = {"username": username, "user_id": user_id, "course_id": course_id}
    yield tracking_line(**common, event_type="page_view", source="browser", moment=start, event={}, page="/courseware")
    if rng.random() < 0.5:
        video_id, duration = rng.choice(videos)
        position = 0.0 if rng.random() < 0.6 else float(rng.randint(0, duration - 10))
        watched = float(rng.randint(5, duration))
        end = min(position + watched, float(duration))
        event = {"id": video_id, "currentTime": position, "code": "html5", "duration": duration}
        yield tracking_line(
            **common, event_type="play_video", source="browser", moment=start + timedelta(seconds=5), event=event
        )
        pause = {"id": video_id, "currentTime": end, "code": "html5", "duration": duration}
        yield tracking_line(
            **common,
            event_type="pause_video",
            source="browser",
            moment=start + timedelta(seconds=5 + end - position),
            event=pause,
        )
    if rng.random() < 0.35:
        event = {
            "problem_id": f"block-v1:{course_id[10:]}+type@problem+block@p{rng.randint(1, 9)}",
            "success": "correct",
            "grade": 1,
            "max_grade": 1,
        }
        yield tracking_line(
            **common, event_type="problem_check", source="server", moment=start + timedelta(seconds=900), event=event
        )
    if rng.random() < 0.08:
        kind = rng.choice(("thread", "response", "comment"))
        yield tracking_line(
            **common,
            event_type=f"edx.forum.{kind}.created",
            source="server",
            moment=start + timedelta(seconds=1200),
            event={"body": "Hello"},
        )


def tracking_log_lines(*, course_ids: list[str], learners: int, start: date, days: int, seed: int = 7,
                       first_user_id: int = 1000) -> Iterator[str]:  # fmt: skip
    """A tracking log over `days` days from `start`: enrollments (with upgrades and unenrollments), page views,
    video plays and pauses, problem checks, forum posts and platform task events, in time order per day."""
    rng = random.Random(seed)
    videos = {course: [(_block_id(course, "video", f"v{n}"), rng.randint(*VIDEO_DURATION_SECONDS))
                       for n in range(1, 4)] for course in course_ids}  # fmt: skip
    enrolments = []
    for index in range(learners):
        user_id = first_user_id + index
        for course in rng.sample(course_ids, k=rng.randint(1, min(3, len(course_ids)))):
            enrol_day = rng.randrange(days)
            leave_day = enrol_day + rng.randint(1, days) if rng.random() < 0.15 else None
            upgrade_day = enrol_day + rng.randint(0, 10) if rng.random() < 0.1 else None
            mode = rng.choices(MODES, weights=MODE_WEIGHTS)[0]
            enrolments.append((f"learner{index + 1:03d}", user_id, course, enrol_day, leave_day, upgrade_day, mode))
    for offset in range(days):
        day = start + timedelta(days=offset)
        noon = day_start(day) + timedelta(hours=12)
        for username, user_id, course, enrol_day, leave_day, upgrade_day, mode in enrolments:
            common = {"username": username, "user_id": user_id, "course_id": course}
            payload = {"course_id": course, "user_id": user_id, "mode": mode}
            if offset == enrol_day:
                yield tracking_line(
                    **common, event_type="edx.course.enrollment.activated", source="server", moment=noon, event=payload
                )
            if offset == upgrade_day:
                yield tracking_line(
                    **common,
                    event_type="edx.course.enrollment.mode_changed",
                    source="server",
                    moment=noon + timedelta(hours=1),
                    event={**payload, "mode": "verified"},
                )
            if offset == leave_day:
                yield tracking_line(
                    **common,
                    event_type="edx.course.enrollment.deactivated",
                    source="server",
                    moment=noon + timedelta(hours=2),
                    event=payload,
                )
            active = enrol_day <= offset and (leave_day is None or offset < leave_day)
            if active and rng.random() < 0.3:
                yield from _learner_day(rng, **common, day=day, videos=videos[course])
        yield tracking_line(username="", user_id=None, course_id=course_ids[0],
                            event_type="edx.grades.course.grade_calculated", source="task", moment=noon,
                            event={"course_id": course_ids[0]})  # fmt: skip


def profile_csv_lines(*, learners: int, seed: int = 7, first_user_id: int = 1000) -> Iterator[str]:
    """The profile export (user_id,year_of_birth,level_of_education,gender,country) of the same learners."""
    rng = random.Random(seed + 1)
    yield "user_id,year_of_birth,level_of_education,gender,country"
    for index in range(learners):
        year = "" if rng.random() < 0.1 else str(rng.randint(1950, 2008))
        row = (first_user_id + index, year, rng.choice(EDUCATION), rng.choice(GENDERS), rng.choice(COUNTRIES))
        yield ",".join(map(str, row))


DEMO_LEARNERS = 1200
DEMO_DAYS = 60


def demo_course_analytics_seed(*, progress) -> int:
    """Ingest a generated tracking log (the demo courses, DEMO_LEARNERS learners, the last DEMO_DAYS days up to
    yesterday) and profile export, then roll up every day. Runs once: with events present it adds nothing."""
    if tracking_events_days():
        return 0
    last_day = yesterday()
    first_day = last_day - timedelta(days=DEMO_DAYS - 1)
    progress.set_postfix_str("course_analytics: tracking log")
    lines = tracking_log_lines(course_ids=DEMO_COURSE_IDS, learners=DEMO_LEARNERS, start=first_day, days=DEMO_DAYS)
    report = tracking_lines_ingest(lines=lines, source="demo")
    learner_profiles_ingest(stream=io.StringIO("\n".join(profile_csv_lines(learners=DEMO_LEARNERS))), source="demo")
    progress.set_postfix_str("course_analytics: rollups")
    course_analytics_backfill(first=first_day, last=last_day)
    return report.added
