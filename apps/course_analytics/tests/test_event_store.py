"""The tracking-event store: exact idempotence, concurrent and interrupted ingests, interrupted rollups, and the
incremental night against a from-scratch run."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from apps.bench import baselines
from apps.common.dates import day_start
from apps.common.frames import queryset_frame
from apps.common.models import JobRun
from apps.common.services import ABANDONED
from apps.common.testing.fixtures import celery_worker_start, database_url_for_tests, wait_for
from apps.course_analytics import models
from apps.course_analytics.demo import profile_csv_lines, tracking_line, tracking_log_lines
from apps.course_analytics.eventstore import (
    ACTIVITY_FOLDER,
    ACTIVITY_SCHEMA,
    VIEWERS_FOLDER,
    VIEWING_SCHEMA,
    VIEWINGS_FOLDER,
    day_files_scan,
    events_digest,
    partition_append,
)
from apps.course_analytics.selectors import tracking_events_days, tracking_events_scan
from apps.course_analytics.services.ingest import (
    events_frame,
    learner_profile_save,
    learner_profiles_ingest,
    tracking_lines_ingest,
)
from apps.course_analytics.services.rollups import (
    _carried_counts,
    activity_table,
    course_analytics_backfill,
    course_analytics_backfill_enqueue,
    course_analytics_rollup,
    enrollment_tables,
)
from apps.course_analytics.tasks import rollup_day, rollup_range

COURSES = ["course-v1:TallyX+MATH101+2026_T1", "TallyX/HIST100/2025_Fall"]
START = date(2026, 3, 2)  # a Monday
TABLES = tuple(
    getattr(models, name)
    for name in ("EnrollmentDaily", "EnrollmentModeDaily", "EnrollmentGenderDaily", "EnrollmentBirthYearDaily",
                 "EnrollmentEducationDaily", "EnrollmentLocationDaily", "ActivityWeekly", "ActivityLearnersFile",
                 "VideoViewingFile", "VideoSummary", "LearnerEnrollmentState")
)  # fmt: skip


def _lines(*, learners: int = 60, days: int = 21) -> list[str]:
    return list(tracking_log_lines(course_ids=COURSES, learners=learners, start=START, days=days, seed=5))


def _stored_keys() -> list[str]:
    return tracking_events_scan(columns=["event_key"]).collect()["event_key"].to_list()


DAY_FILES = {
    models.VideoViewingFile: (VIEWINGS_FOLDER, VIEWING_SCHEMA),
    models.ActivityLearnersFile: (ACTIVITY_FOLDER, ACTIVITY_SCHEMA),
}


def _rows(model) -> list[tuple]:
    if model in DAY_FILES:  # the rows of each day's file in force, not the file's name
        folder, schema = DAY_FILES[model]
        files = model.objects.values_list("day", "name")
        return [
            (day, *row)
            for day, name in files
            for row in day_files_scan(folder=folder, names=[name], schema=schema).collect().rows()
        ]
    return [tuple(v for k, v in row.items() if k not in ("id", "created")) for row in model.objects.values()]


def _snapshot(models=TABLES) -> dict:
    """Every rollup table's rows, without ids and computation times, in a stable order."""
    rows = {model: _rows(model) for model in models}
    return {model.__name__: sorted(values, key=repr) for model, values in rows.items()}


def _profiles(learners: int = 60) -> None:
    learner_profiles_ingest(stream=io.StringIO("\n".join(profile_csv_lines(learners=learners, seed=5))), source="p")


def _late_deactivation_ingest(lines: list[str], *, at: date) -> None:
    """Ingest, late, a deactivation on `at` (its time an ISO date) of the learner of the log's first activation."""
    late = json.loads(next(line for line in lines if "enrollment.activated" in line))
    late["event_type"] = late["name"] = "edx.course.enrollment.deactivated"
    late["time"] = at.isoformat()
    tracking_lines_ingest(lines=[json.dumps(late)], source="late")


def _two_weeks_rolled_up_but_the_last_day() -> tuple[list[str], date]:
    """Two weeks of events and profiles ingested, every day rolled up but the last; returns the lines and that day."""
    lines = _lines(days=14)
    tracking_lines_ingest(lines=lines, source="t")
    _profiles()
    last = START + timedelta(days=13)
    course_analytics_backfill(first=START, last=last - timedelta(days=1))
    return lines, last


def _clear_rollups() -> None:
    for model in (*TABLES, models.LearnerStateDay, models.VideoViewersFile):
        model.objects.all().delete()


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _manage(*args: str) -> subprocess.Popen:
    """manage.py in a process of its own, on the test database and the test's event store."""
    env = {**os.environ, "DATABASE_URL": database_url_for_tests(), "TALLY_EVENT_STORE": settings.TRACKING_EVENT_STORE}
    env.pop("CELERY_BROKER_URL", None)
    return subprocess.Popen(
        [sys.executable, "manage.py", *args, "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.django_db
def test_reingesting_a_file_adds_nothing(tmp_path):
    log = _write(tmp_path / "tracking.log", _lines(days=7))
    out = io.StringIO()

    call_command("ingest_tracking_logs", str(log), stdout=out, verbosity=0)
    files = sorted(str(path) for path in Path(settings.TRACKING_EVENT_STORE).rglob("*.parquet"))
    call_command("ingest_tracking_logs", str(log), stdout=out, verbosity=0)

    first, second = out.getvalue().splitlines()
    assert "added=0" not in first
    assert second.endswith("added=0 skipped=0 malformed=0")
    assert sorted(str(path) for path in Path(settings.TRACKING_EVENT_STORE).rglob("*.parquet")) == files
    keys = _stored_keys()
    assert len(keys) == len(set(keys)) == len(log.read_text().splitlines())


@pytest.mark.django_db
def test_the_store_is_hive_partitioned_by_day_and_keeps_what_the_aggregator_reads():
    problem = {
        "username": "ada",
        "event_source": "server",
        "event_type": "problem_check",
        "time": "2026-03-02T10:00:00Z",
        "context": {"course_id": COURSES[0], "user_id": 7},
        "event": {"problem_id": "block-v1:TallyX+MATH101+2026_T1+type@problem+block@p1", "success": "correct",
                  "grade": 2, "max_grade": 3},
    }  # fmt: skip
    completion = {
        "username": "ada",
        "event_source": "server",
        "name": "edx.completion.block_completion.changed",
        "time": "2026-03-03T10:00:00Z",
        "context": {"course_id": COURSES[0], "user_id": 7},
        "event": {"block_id": "block-v1:TallyX+MATH101+2026_T1+type@html+block@h1", "completion": 1.0},
    }

    tracking_lines_ingest(lines=[json.dumps(problem), json.dumps(completion)], source="t")

    folders = sorted(path.name for path in Path(settings.TRACKING_EVENT_STORE).iterdir())
    assert folders == ["day=2026-03-02", "day=2026-03-03"]
    rows = (
        tracking_events_scan(
            course_ids=[COURSES[0]],
            days=[date(2026, 3, 2), date(2026, 3, 3)],
            columns=["lms_user_id", "event_type", "block_id", "success", "grade", "max_grade", "completion"],
        )
        .sort("day")
        .collect()
        .to_dicts()
    )
    assert rows == [
        {"day": date(2026, 3, 2), "lms_user_id": 7, "event_type": "problem_check",
         "block_id": problem["event"]["problem_id"], "success": "correct", "grade": 2.0, "max_grade": 3.0,
         "completion": None},
        {"day": date(2026, 3, 3), "lms_user_id": 7, "event_type": "edx.completion.block_completion.changed",
         "block_id": completion["event"]["block_id"], "success": None, "grade": None, "max_grade": None,
         "completion": 1.0},
    ]  # fmt: skip


@pytest.mark.django_db
def test_a_file_left_by_a_dead_writer_is_never_read_and_goes_with_the_next_write():
    lines = _lines(learners=10, days=1)
    tracking_lines_ingest(lines=lines[:5], source="t")
    folder = next(Path(settings.TRACKING_EVENT_STORE).iterdir())
    (folder / "part-dead.tmp").write_bytes(b"PAR1 half a file")

    readable = len(_stored_keys())
    tracking_lines_ingest(lines=lines, source="t")

    assert readable == 5
    assert len(_stored_keys()) == len(lines)
    assert not list(folder.glob("*.tmp"))


@pytest.mark.postgres
def test_two_concurrent_ingests_of_overlapping_files_give_the_union_once(tmp_path, transactional_db):
    lines = _lines(learners=120, days=14)
    third = len(lines) // 3
    first = _write(tmp_path / "a.log", lines[: 2 * third])
    second = _write(tmp_path / "b.log", lines[third:])

    ingests = [_manage("ingest_tracking_logs", str(path), "--batch-size", "500") for path in (first, second)]
    errors = [process.communicate(timeout=300)[1].decode()[-3000:] for process in ingests]

    assert [process.returncode for process in ingests] == [0, 0], "\n".join(errors)
    keys = _stored_keys()
    assert len(keys) == len(set(keys)) == len(lines)


@pytest.mark.postgres
def test_an_ingest_killed_midway_leaves_whole_files_and_a_rerun_completes_it(tmp_path, transactional_db):
    lines = _lines(learners=120, days=21)
    log = _write(tmp_path / "tracking.log", lines)
    store = Path(settings.TRACKING_EVENT_STORE)

    ingest = _manage("ingest_tracking_logs", str(log), "--batch-size", "200")
    assert wait_for(lambda: len(list(store.rglob("*.parquet"))) >= 3, seconds=120, interval=0.02)
    ingest.send_signal(signal.SIGKILL)
    ingest.wait(timeout=30)
    partial = _stored_keys()
    rerun = _manage("ingest_tracking_logs", str(log))
    _, error = rerun.communicate(timeout=300)

    assert ingest.returncode == -signal.SIGKILL
    assert 0 < len(partial) < len(lines)
    assert rerun.returncode == 0, error
    keys = _stored_keys()
    assert len(keys) == len(set(keys)) == len(lines)


@pytest.mark.postgres
def test_a_rollup_killed_midway_leaves_the_previous_tables_and_a_rerun_completes_it(transactional_db):
    tracking_lines_ingest(lines=_lines(learners=150, days=63), source="t")
    _profiles(150)
    last = START + timedelta(days=62)
    course_analytics_backfill(first=START, last=START + timedelta(days=27))
    served = TABLES[:-1]  # the learner states are built (and committed) ahead of the rollups that read them
    before = _snapshot(served)

    backfill = _manage("backfill_course_analytics", "--from", START.isoformat(), "--to", last.isoformat())
    started = time.monotonic()
    assert wait_for(
        lambda: JobRun.objects.filter(kind="course_analytics.rollup", status="running").exists(),
        seconds=120,
        interval=0.01,
    )
    backfill.send_signal(signal.SIGKILL)
    backfill.wait(timeout=30)
    after_kill = _snapshot(served)
    rerun = _manage("backfill_course_analytics", "--from", START.isoformat(), "--to", last.isoformat())
    _, error = rerun.communicate(timeout=300)
    completed = _snapshot()
    _clear_rollups()
    course_analytics_backfill(first=START, last=last)

    assert backfill.returncode == -signal.SIGKILL, time.monotonic() - started
    assert after_kill == before
    assert rerun.returncode == 0, error
    assert completed == _snapshot()


@pytest.mark.postgres
@pytest.mark.broker
def test_a_worker_killed_mid_rollup_hands_the_task_to_the_next_worker(transactional_db, private_broker):
    lines = _lines(days=7)
    tracking_lines_ingest(lines=lines, source="t")
    _profiles()
    day = START + timedelta(days=6)
    course_analytics_rollup(day=day)
    before = _snapshot(TABLES[:-1])
    _late_deactivation_ingest(lines, at=day)
    queue = f"test-{os.urandom(4).hex()}"
    first = celery_worker_start(queue, broker_url=private_broker.url)
    # Another session holds the video summaries, so that the worker's rollup stops there, its enrollment tables
    # written in its open transaction, until it is killed.
    with psycopg.connect(database_url_for_tests().replace("postgres://", "postgresql://", 1)) as blocker:
        blocker.execute("LOCK TABLE course_analytics_videosummary IN ACCESS EXCLUSIVE MODE")
        try:
            rollup_day.apply_async(args=[day.isoformat()], queue=queue)
            waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass"
            assert wait_for(lambda: blocker.execute(waiting, ["course_analytics_videosummary"]).fetchone()[0] > 0)
            first.kill()
            first.wait(timeout=30)
        finally:
            first.kill()
            blocker.rollback()
    after_kill = _snapshot(TABLES[:-1])

    # A worker that starts once the delivery's visibility timeout has passed takes the task back from the broker.
    time.sleep(2)
    second = celery_worker_start(queue, broker_url=private_broker.url, TALLY_CELERY_VISIBILITY_TIMEOUT_SECONDS="1")
    try:
        runs = JobRun.objects.filter(kind="course_analytics.rollup", key=day.isoformat()).order_by("pk")
        assert wait_for(lambda: runs.filter(status="succeeded").count() == 2, seconds=120)
    finally:
        second.terminate()
        second.wait(timeout=30)
    redelivered = _snapshot()
    course_analytics_rollup(day=day)

    assert after_kill == before
    assert redelivered["EnrollmentDaily"] != before["EnrollmentDaily"]  # the late event counts, once
    assert redelivered == _snapshot()
    assert [(run.status, run.error) for run in runs] == [
        ("succeeded", ""), ("failed", ABANDONED), ("succeeded", ""), ("succeeded", "")
    ]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    "lookup_size", [1, 5_000], ids=["states and profiles of every learner", "of the day's learners only"]
)
def test_the_incremental_night_over_n_days_equals_the_tables_from_scratch(monkeypatch, lookup_size):
    from apps.common import lookups

    monkeypatch.setattr(lookups, "ID_LOOKUP_SIZE", lookup_size)
    days = 24
    tracking_lines_ingest(lines=_lines(days=days), source="t")
    _profiles()
    nights = [START + timedelta(days=n) for n in range(days)]

    for night in nights:
        course_analytics_rollup(day=night)
    incremental = _snapshot()
    _clear_rollups()
    course_analytics_backfill(first=nights[0], last=nights[-1])

    assert incremental == _snapshot()
    assert len(incremental["EnrollmentDaily"]) == days * len(COURSES)
    assert models.LearnerStateDay.objects.count() == days


def _sorted_tables(tables: dict) -> dict:
    return {model.__name__: frame.sort(frame.columns, nulls_last=True) for model, frame in tables.items()}


@pytest.mark.django_db
def test_a_night_carried_in_from_the_day_before_counts_as_one_read_from_every_learner_state():
    tracking_lines_ingest(lines=_lines(days=14), source="t")
    _profiles()
    nights = [START + timedelta(days=n) for n in range(14)]
    for night in nights[:-1]:
        course_analytics_rollup(day=night)
    # The states of the last night are built and committed; its tables are written on the database's side.
    course_analytics_rollup(day=nights[-1])
    written = {
        model.__name__: queryset_frame(model.objects.filter(date=nights[-1]), frame.schema).sort(
            frame.columns, nulls_last=True
        )
        for model, frame in enrollment_tables(first=nights[-1], last=nights[-1]).items()
    }

    assert _carried_counts(first=nights[-1]) is not None
    carried = _sorted_tables(enrollment_tables(first=nights[-1], last=nights[-1]))
    models.LearnerProfile.objects.filter(lms_user_id=1000).update(updated=timezone.now())
    assert _carried_counts(first=nights[-1]) is None
    from_every_state = _sorted_tables(enrollment_tables(first=nights[-1], last=nights[-1]))

    assert carried.keys() == from_every_state.keys()
    for name, frame in carried.items():
        assert frame.equals(from_every_state[name]), name
        assert written[name].equals(from_every_state[name]), name
    assert carried["EnrollmentDaily"].height == len(COURSES)


@pytest.mark.django_db
def test_a_profile_changed_between_nights_counts_anew_from_the_next_night():
    tracking_lines_ingest(lines=_lines(days=10), source="t")
    _profiles()
    nights = [START + timedelta(days=n) for n in range(10)]
    for night in nights[:5]:
        course_analytics_rollup(day=night)
    counted = models.LearnerEnrollmentState.objects.filter(since__lte=nights[4]).values_list("lms_user_id", flat=True)
    profile = models.LearnerProfile.objects.get(lms_user_id=counted[0])
    profile.gender = "f" if profile.gender != "f" else "m"
    learner_profile_save(profile=profile)
    for night in nights[5:]:
        course_analytics_rollup(day=night)

    def later_rows() -> list[tuple]:
        rows = models.EnrollmentGenderDaily.objects.filter(date__gte=nights[5])
        return sorted(rows.values_list("course_id", "date", "gender", "count", "cumulative_count"), key=repr)

    incremental = later_rows()
    _clear_rollups()
    course_analytics_backfill(first=nights[0], last=nights[-1])

    # The days after the change count the learner under the new gender, as a run from scratch does.
    assert incremental == later_rows()


@pytest.mark.django_db
def test_a_day_whose_viewing_file_is_gone_still_counts_in_the_video_summaries_and_its_rerun_writes_it_again(
    caplog, django_capture_on_commit_callbacks
):
    tracking_lines_ingest(lines=_lines(days=7), source="t")
    last = START + timedelta(days=6)
    course_analytics_backfill(first=START, last=last)
    summaries = _snapshot([models.VideoSummary])
    gone = models.VideoViewingFile.objects.get(day=START + timedelta(days=2))
    (Path(settings.TRACKING_EVENT_STORE) / "_video_viewings" / gone.name).unlink()

    with django_capture_on_commit_callbacks(execute=True):
        course_analytics_rollup(day=last)
        after_loss = _snapshot([models.VideoSummary])
        course_analytics_rollup(day=gone.day)

    assert after_loss == summaries
    assert str(gone.day) in caplog.text
    folders = (Path(settings.TRACKING_EVENT_STORE) / "_video_viewings").iterdir()
    assert sorted(len(list(folder.iterdir())) for folder in folders) == [1] * 7  # the replaced files are gone
    assert (
        Path(settings.TRACKING_EVENT_STORE) / "_video_viewings" / models.VideoViewingFile.objects.get(day=gone.day).name
    ).exists()


def _summaries_counted_afresh(monkeypatch) -> list[int]:
    """Records each time the video summaries count every viewing afresh (rather than move on by a night's)."""
    from apps.course_analytics.services import rollups

    afresh: list[int] = []
    from_scratch = rollups.video_summaries_from_scratch

    def recording(viewings):
        afresh.append(1)
        return from_scratch(viewings)

    monkeypatch.setattr(rollups, "video_summaries_from_scratch", recording)
    return afresh


def _summaries_equal_from_scratch(last: date) -> None:
    nightly = _snapshot([models.VideoSummary])
    _clear_rollups()
    course_analytics_backfill(first=START, last=last)
    assert nightly == _snapshot([models.VideoSummary])


@pytest.mark.django_db
def test_a_night_moves_the_video_summaries_on_by_its_own_viewers(monkeypatch):
    _, last = _two_weeks_rolled_up_but_the_last_day()
    afresh = _summaries_counted_afresh(monkeypatch)

    course_analytics_rollup(day=last)

    assert afresh == []
    files = list(models.VideoViewersFile.objects.order_by("first").values_list("first", "last"))
    assert files == [(START, last - timedelta(days=1)), (last, last)]
    _summaries_equal_from_scratch(last)


@pytest.mark.django_db
def test_a_rerun_of_a_day_counted_before_counts_every_viewing_afresh(monkeypatch, django_capture_on_commit_callbacks):
    _, last = _two_weeks_rolled_up_but_the_last_day()
    course_analytics_rollup(day=last)
    afresh = _summaries_counted_afresh(monkeypatch)
    folder = Path(settings.TRACKING_EVENT_STORE) / VIEWERS_FOLDER
    stray = folder / "day=2026-01-01" / "video_viewers-of-a-failed-rollup.parquet"  # a folder never written again
    stray.parent.mkdir()
    stray.write_bytes(b"")

    with django_capture_on_commit_callbacks(execute=True):
        course_analytics_rollup(day=START + timedelta(days=3))  # its viewing file is replaced by another
        course_analytics_rollup(day=last)  # a rerun of the newest night

    assert afresh == [1, 1]
    (in_force,) = models.VideoViewersFile.objects.values_list("name", flat=True)
    assert [path.relative_to(folder).as_posix() for path in folder.glob("*/*")] == [in_force]
    _summaries_equal_from_scratch(last)


@pytest.mark.django_db
def test_a_night_that_moves_a_video_s_end_segment_counts_every_viewing_afresh(monkeypatch):
    lines, last = _two_weeks_rolled_up_but_the_last_day()
    afresh = _summaries_counted_afresh(monkeypatch)
    # A player reports the video four times as long as before: its end segment moves on.
    play = json.loads(next(line for line in lines if '"play_video"' in line))
    event = {**json.loads(play["event"]), "currentTime": 0}
    event["duration"] *= 4
    pause = {**play, "event_type": "pause_video", "name": "pause_video", "time": f"{last}T08:01:00+00:00",
             "event": json.dumps({**event, "currentTime": 60})}  # fmt: skip
    play.update(event=json.dumps(event), time=f"{last}T08:00:00+00:00")
    tracking_lines_ingest(lines=[json.dumps(play), json.dumps(pause)], source="late")

    course_analytics_rollup(day=last)

    assert afresh == [1]
    summary = models.VideoSummary.objects.get(encoded_module_id=event["id"])
    assert summary.reported_duration == event["duration"]
    _summaries_equal_from_scratch(last)


@pytest.mark.django_db
def test_past_the_most_viewer_files_a_night_writes_them_as_one(monkeypatch, django_capture_on_commit_callbacks):
    from apps.course_analytics.services import rollups

    monkeypatch.setattr(rollups, "VIEWERS_FILES_MAX", 3)
    tracking_lines_ingest(lines=_lines(days=6), source="t")
    afresh = _summaries_counted_afresh(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        for night in range(6):
            course_analytics_rollup(day=START + timedelta(days=night))

    files = list(models.VideoViewersFile.objects.order_by("first").values_list("first", "last"))
    assert afresh == [1]  # the first night only
    # The fourth night found three files in force: it wrote them and its own as one.
    day = [START + timedelta(days=n) for n in range(6)]
    assert files == [(day[0], day[3]), (day[4], day[4]), (day[5], day[5])]
    folder = Path(settings.TRACKING_EVENT_STORE) / VIEWERS_FOLDER
    assert sorted(path.parent.name for path in folder.glob("*/*")) == [f"day={day[n]}" for n in (0, 4, 5)]
    _summaries_equal_from_scratch(START + timedelta(days=5))


@pytest.mark.django_db
def test_a_night_whose_viewer_file_is_gone_counts_every_viewing_afresh(monkeypatch, caplog):
    _, last = _two_weeks_rolled_up_but_the_last_day()
    gone = models.VideoViewersFile.objects.get()
    (Path(settings.TRACKING_EVENT_STORE) / VIEWERS_FOLDER / gone.name).unlink()
    afresh = _summaries_counted_afresh(monkeypatch)

    course_analytics_rollup(day=last)

    assert afresh == [1]
    assert gone.name in caplog.text
    _summaries_equal_from_scratch(last)


@pytest.mark.django_db
def test_events_of_a_day_that_arrive_after_its_rollup_count_in_the_week_its_last_night_rolls_up():
    lines, last = _two_weeks_rolled_up_but_the_last_day()
    week = START + timedelta(days=7)
    before = {(row["course_id"], row["activity_type"]): row["count"] for row in activity_table(week=week).to_dicts()}
    # A learner of no other event attempts a problem on a day already rolled up.
    late = json.loads(next(line for line in lines if '"problem_check"' in line))
    late["context"]["user_id"], late["username"] = 9_999, "late-learner"
    late["time"] = f"{START + timedelta(days=9)}T12:00:00+00:00"
    tracking_lines_ingest(lines=[json.dumps(late)], source="late")

    course_analytics_rollup(day=last)
    nightly = _snapshot([models.ActivityWeekly])
    counted = models.ActivityWeekly.objects.get(
        course_id=late["context"]["course_id"], interval_start__date=week, activity_type="attempted_problem"
    )
    _clear_rollups()
    course_analytics_backfill(first=START, last=last)

    assert counted.count == before[(late["context"]["course_id"], "attempted_problem")] + 1
    assert nightly == _snapshot([models.ActivityWeekly])


def _edge_event(*, user_id: int | None, event_type: str, source: str, at: str, course: str = COURSES[0]) -> str:
    return json.dumps(
        {"username": f"u{user_id}", "event_source": source, "event_type": event_type, "name": event_type, "time": at,
         "context": {"course_id": course, "user_id": user_id}, "event": {"id": "v1", "currentTime": 0}}
    )  # fmt: skip


@pytest.mark.django_db
def test_the_weekly_activity_of_the_nights_counts_what_the_reference_defines_over_the_events():
    """The weekly table the nights build from their day files, against the events each rule keeps or leaves out,
    and against the bench baseline's formulation over the raw events (labels per event, one pass)."""
    sunday, monday = START + timedelta(days=6), START + timedelta(days=7)
    at = f"{START}T09:00:00Z"
    edge = [
        _edge_event(user_id=9001, event_type="edx.grades.course.grade_calculated", source="task", at=at),
        _edge_event(user_id=9002, event_type="edx.course.enrollment.activated", source="server", at=at),
        _edge_event(user_id=9003, event_type="play_video", source="mobile", at=at),
        _edge_event(user_id=9004, event_type="play_video", source="server", at=at),
        _edge_event(user_id=9005, event_type="edx.forum.thread.created", source="server", at=at),
        _edge_event(user_id=9006, event_type="edx.forum.thread.voted", source="server", at=at),
        _edge_event(user_id=9007, event_type="problem_check", source="browser", at=at),
        _edge_event(user_id=9008, event_type="problem_check", source="server", at=f"{sunday}T23:59:59.999Z"),
        _edge_event(user_id=9008, event_type="page_view", source="browser", at=f"{monday}T00:00:00Z"),
        _edge_event(user_id=9009, event_type="page_view", source="browser", at=at, course=COURSES[1]),
        _edge_event(user_id=9009, event_type="page_view", source="browser", at=f"{START}T10:00:00Z"),
        _edge_event(user_id=None, event_type="page_view", source="browser", at=at),
        _edge_event(user_id=9010, event_type="page_view", source="browser", at=f"{START + timedelta(days=13)}T12:00Z"),
    ]
    tracking_lines_ingest(lines=edge, source="t")
    for night in range(14):
        course_analytics_rollup(day=START + timedelta(days=night))

    weekly = sorted(
        (course, start.date(), kind, count)
        for course, start, kind, count in models.ActivityWeekly.objects.values_list(
            "course_id", "interval_start", "activity_type", "count"
        )
    )
    assert weekly == sorted([
        (COURSES[0], START, "any", 7),  # 9003 to 9009: not the platform's task, the enrollment, nor a user-less event
        (COURSES[0], START, "played_video", 1),  # from a player (mobile), not the server
        (COURSES[0], START, "posted_forum", 1),  # a post created, not a vote
        (COURSES[0], START, "attempted_problem", 1),  # checked on the server, at the last moment of the week
        (COURSES[0], monday, "any", 2),  # 9008 at the first moment of the next week, and 9010
        (COURSES[1], START, "any", 1),
    ])  # fmt: skip
    reference = baselines.activity_all_weeks(
        tracking_events_scan(columns=["course_id", "lms_user_id", "event_type", "event_source"]),
        last_complete_day=START + timedelta(days=13),
    )
    assert weekly == sorted(reference.select("course_id", "week", "activity_type", "count").rows())


@pytest.mark.django_db
def test_events_stored_while_a_night_reads_its_day_count_in_its_week_as_from_scratch(monkeypatch):
    _, last = _two_weeks_rolled_up_but_the_last_day()
    from apps.course_analytics.services import rollups

    read, stored = rollups._activity_learners, []
    late = _edge_event(user_id=9_999, event_type="problem_check", source="server", at=f"{last}T23:00:00Z")

    def read_then_store(days):
        """The day's active learners, then a file of the day's events landing just after they were read, as an
        ingest in another process writes it (this runs in the rollup's thread for the day files, which holds no
        connection of its own: the ingest's database writes are not what this is about)."""
        learners = read(days)
        if not stored:
            stored.append(partition_append(day=last, frame=events_frame([late])))
        return learners

    def attempted(rows) -> int:
        """The week's learners who attempted a problem in the first course."""
        return next(
            row["count"]
            for row in rows
            if (row["course_id"], row["activity_type"], row["interval_start"].date())
            == (COURSES[0], "attempted_problem", week)
        )

    week = START + timedelta(days=7)
    before = attempted(activity_table(week=week).to_dicts())
    monkeypatch.setattr(rollups, "_activity_learners", read_then_store)
    course_analytics_rollup(day=last)
    nightly = _snapshot([models.ActivityWeekly])
    monkeypatch.undo()

    # The day's file lacks the late event, and says so: its digest, taken before the day was read, predates the
    # late file, so that the week counts the day from its events.
    assert models.ActivityLearnersFile.objects.get(day=last).events != events_digest(days=[last])[last]
    assert attempted(models.ActivityWeekly.objects.values()) == before + 1
    _clear_rollups()
    course_analytics_backfill(first=START, last=last)
    assert nightly == _snapshot([models.ActivityWeekly])


@pytest.mark.django_db
def test_a_backfill_that_starts_mid_week_counts_that_week_s_earlier_days_from_their_events():
    tracking_lines_ingest(lines=_lines(days=14), source="t")
    last = START + timedelta(days=13)
    course_analytics_backfill(first=START, last=last)
    weekly = _snapshot([models.ActivityWeekly])
    _clear_rollups()

    course_analytics_backfill(first=START + timedelta(days=2), last=last)

    assert not models.ActivityLearnersFile.objects.filter(day__lt=START + timedelta(days=2)).exists()
    assert _snapshot([models.ActivityWeekly]) == weekly


@pytest.mark.django_db
def test_a_day_whose_active_learner_file_is_gone_still_counts_in_its_week(caplog):
    tracking_lines_ingest(lines=_lines(days=7), source="t")
    last = START + timedelta(days=6)
    course_analytics_backfill(first=START, last=last)
    weekly = _snapshot([models.ActivityWeekly])
    gone = models.ActivityLearnersFile.objects.get(day=START + timedelta(days=2))
    (Path(settings.TRACKING_EVENT_STORE) / ACTIVITY_FOLDER / gone.name).unlink()

    course_analytics_rollup(day=last)

    assert _snapshot([models.ActivityWeekly]) == weekly
    assert str(gone.day) in caplog.text


@pytest.mark.django_db
def test_a_night_s_learner_states_follow_the_state_machine_as_a_range_s_do():
    course, night = COURSES[0], START + timedelta(days=1)
    noon, day_before_noon = day_start(night) + timedelta(hours=12), day_start(START) + timedelta(hours=12)

    def enrollment(user_id: int, kind: str, moment, mode: str = "audit") -> str:
        return tracking_line(username=f"learner{user_id}", user_id=user_id, course_id=course, source="server",
                             event_type=f"edx.course.enrollment.{kind}", moment=moment,
                             event={"course_id": course, "user_id": user_id, "mode": mode})  # fmt: skip

    tracking_lines_ingest(
        lines=[
            # Enrolled the day before, only a mode change on the night: still enrolled, in the new mode.
            enrollment(1, "activated", day_before_noon),
            enrollment(1, "mode_changed", noon, mode="verified"),
            # Two decisions at the same moment: the event key orders them, as in a range.
            enrollment(2, "activated", day_before_noon),
            enrollment(2, "deactivated", noon),
            enrollment(2, "activated", noon),
            # A mode change without any activation: not enrolled.
            enrollment(3, "mode_changed", noon, mode="verified"),
            # Lines out of time order: the later deactivation decides.
            enrollment(4, "deactivated", noon + timedelta(hours=1)),
            enrollment(4, "activated", noon),
        ],
        source="t",
    )
    course_analytics_rollup(day=START)
    course_analytics_rollup(day=night)
    nightly = _snapshot([models.LearnerEnrollmentState])
    _clear_rollups()
    course_analytics_backfill(first=START, last=night)

    assert nightly == _snapshot([models.LearnerEnrollmentState])
    states = models.LearnerEnrollmentState.objects.filter(since=night, lms_user_id__in=[1, 3, 4])
    assert {row[0]: row[1:] for row in states.values_list("lms_user_id", "enrolled", "mode", "previous_enrolled")} == {
        1: (True, "verified", True),
        3: (False, "verified", None),
        4: (False, "audit", None),
    }


@pytest.mark.django_db
def test_a_late_enrollment_event_makes_the_next_night_recompute_the_states_from_its_day():
    lines = _lines(days=14)
    tracking_lines_ingest(lines=lines, source="t")
    _profiles()
    last = START + timedelta(days=13)
    course_analytics_backfill(first=START, last=last)

    _late_deactivation_ingest(lines, at=START + timedelta(days=2))
    stale = models.LearnerStateDay.objects.count()
    course_analytics_backfill(first=START + timedelta(days=2), last=last)
    nightly = _snapshot()
    _clear_rollups()
    course_analytics_backfill(first=START, last=last)

    assert stale == 2
    assert nightly == _snapshot()


@pytest.mark.django_db
def test_a_night_after_a_late_enrollment_event_counts_it_though_the_day_before_was_rolled_up_without_it():
    lines, last = _two_weeks_rolled_up_but_the_last_day()
    _late_deactivation_ingest(lines, at=START + timedelta(days=2))

    def night() -> list[tuple]:
        return sorted(
            models.EnrollmentDaily.objects.filter(date=last).values_list("course_id", "count", "cumulative_count")
        )

    course_analytics_rollup(day=last)  # the days before keep their figures until they are rerun
    nightly = night()
    _clear_rollups()
    course_analytics_backfill(first=START, last=last)

    assert nightly == night()


@pytest.mark.django_db
def test_the_nightly_run_reads_only_its_day_once_the_states_are_built(monkeypatch):
    tracking_lines_ingest(lines=_lines(days=14), source="t")
    last = START + timedelta(days=13)
    course_analytics_backfill(first=START, last=last - timedelta(days=1))
    from apps.course_analytics.services import rollups

    read: list[list[date]] = []
    scan = rollups.tracking_events_scan

    def recording_scan(**kwargs):
        read.append(sorted(kwargs["days"]))
        return scan(**kwargs)

    monkeypatch.setattr(rollups, "tracking_events_scan", recording_scan)
    course_analytics_rollup(day=last)

    # Its learner states, active learners and viewings; the week it ends is counted from its days' active-learner
    # files, not from the week's events.
    assert read == [[last]] * 3


@pytest.mark.django_db
def test_a_day_file_that_fails_in_its_thread_fails_the_run_and_changes_nothing(monkeypatch):
    _, last = _two_weeks_rolled_up_but_the_last_day()
    course_analytics_rollup(day=last)
    before = _snapshot()
    from apps.course_analytics.services import rollups

    def unreadable(days):
        raise OSError("event file unreadable")

    monkeypatch.setattr(rollups, "_video_viewings", unreadable)
    with pytest.raises(OSError, match="unreadable"):
        course_analytics_rollup(day=last)

    assert _snapshot() == before
    assert JobRun.objects.filter(key=last.isoformat()).latest("started").error == "OSError: event file unreadable"


@pytest.mark.broker
def test_a_backfill_fans_out_as_range_tasks_that_workers_run(celery_worker_queue):
    tracking_lines_ingest(lines=_lines(days=56), source="t")
    _profiles()
    last = START + timedelta(days=55)

    ranges = course_analytics_backfill_enqueue(
        first=START,
        last=last,
        enqueue=lambda a, b: rollup_range.apply_async(args=[a.isoformat(), b.isoformat()], queue=celery_worker_queue),
    )
    done = wait_for(
        lambda: JobRun.objects.filter(kind="course_analytics.rollup", status="succeeded").count() == ranges,
        seconds=180,
    )
    fanned_out = _snapshot()
    _clear_rollups()
    course_analytics_backfill(first=START, last=last)

    assert (ranges, done) == (2, True)
    assert fanned_out == _snapshot()


@pytest.mark.django_db
def test_staff_look_up_a_days_events_in_the_admin(client):
    from apps.common.testing.factories import SysadminFactory

    tracking_lines_ingest(lines=_lines(learners=10, days=2), source="t")
    client.force_login(SysadminFactory())
    day = tracking_events_days()[0]
    count = tracking_events_scan(days=[day], course_ids=[COURSES[0]]).select(pl.len()).collect().item()

    page = client.get("/admin/course_analytics/tracking-events/", {"day": day.isoformat(), "course_id": COURSES[0]})
    bad = client.get("/admin/course_analytics/tracking-events/", {"day": "yesterday"})
    anonymous = client.__class__().get("/admin/course_analytics/tracking-events/")

    assert page.status_code == 200
    assert f"{count} event(s) on {day.isoformat()}" in page.content.decode()
    assert page.content.decode().count("<tr><td>") == count
    assert "The day must be YYYY-MM-DD." in bad.content.decode()
    assert anonymous.status_code == 302
