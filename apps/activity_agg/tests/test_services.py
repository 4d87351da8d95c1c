"""The refresh: which events complete which contents, scores, enrollment, idempotency, and the rebuild."""

import io
import threading
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from apps.activity_agg import services
from apps.activity_agg.models import ActivityAggregate, ContentProgress, RefreshRequest
from apps.activity_agg.services import (
    PROGRESS_COLUMNS,
    REFRESH_EXPIRES_SECONDS,
    REFRESH_KIND,
    REFRESH_TIME_LIMIT_SECONDS,
    activity_aggregates_refresh,
    activity_aggregates_refresh_nightly,
    activity_aggregates_refresh_request,
    content_progress_merge,
    course_leaf_contents_set,
)
from apps.activity_agg.tasks import refresh
from apps.activity_agg.tests.factories import Learner
from apps.common.models import JobRun
from apps.common.services import job_lock
from apps.common.testing.fixtures import wait_for
from apps.course_analytics.services.ingest import tracking_lines_ingest
from apps.course_analytics.services.rollups import learner_states_build

COURSE = "course-v1:TestX+AGG101+2026_T1"
DAY = date(2026, 10, 5)
T0 = datetime(2026, 10, 5, 9, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ingest(lines: list[str]) -> None:
    tracking_lines_ingest(lines=lines, source="test")


def aggregates() -> dict:
    rows = ActivityAggregate.objects.select_related("user").order_by("user__username", "metric")
    return {(row.user.username, row.metric): (row.value, row.last_updated) for row in rows}


@pytest.fixture
def learners():
    return Learner("ann", 101, COURSE), Learner("bob", 102, COURSE), Learner("cid", 103, COURSE)


@pytest.mark.django_db
def test_each_kind_of_completion_counts_once_per_content_and_the_best_grade_is_kept(learners):
    # given Ann completes a problem twice, a problem on her second try, a video into its end segment and an html
    # block; Bob only jumps to the end of the video; Cid enrols and leaves
    ann, bob, cid = learners
    ingest(
        [
            ann.enrol(at(0)),
            ann.problem(at(1), "p1", correct=True, grade=1, max_grade=1),
            ann.problem(at(2), "p1", correct=True, grade=1, max_grade=1),
            ann.problem(at(3), "p2", correct=False, grade=0, max_grade=2),
            ann.problem(at(4), "p2", correct=True, grade=2, max_grade=2),
            ann.video(at(5), "play_video", "v1", position=0, duration=300),
            ann.video(at(10), "pause_video", "v1", position=290, duration=300),
            ann.completion(at(11), "h1"),
            bob.enrol(at(0)),
            bob.video(at(5), "play_video", "v1", position=290, duration=300),
            bob.video(at(6), "pause_video", "v1", position=284, duration=300),
            cid.enrol(at(0)),
            cid.problem(at(1), "p1", correct=True, grade=1, max_grade=1),
            cid.enrol(at(2), active=False),
        ]
    )

    # when the day is refreshed
    run = activity_aggregates_refresh(first=DAY, last=DAY)

    # then only enrolled learners have aggregates, with each content counted once
    assert run.status == "succeeded"
    assert aggregates() == {
        ("ann", "completedCount"): (4.0, at(11)),
        ("ann", "score"): (3.0, at(4)),
        ("bob", "completedCount"): (0.0, None),
        ("bob", "score"): (0.0, None),
    }
    assert ContentProgress.objects.filter(lms_user_id=101).count() == 4
    assert ContentProgress.objects.get(lms_user_id=101, content_id=ann.block("problem", "p2")).max_score == 2


@pytest.mark.django_db
def test_a_later_refresh_merges_new_events_and_keeps_the_first_completion(learners):
    ann, _, _ = learners
    ingest([ann.enrol(at(0)), ann.problem(at(1), "p1", correct=True, grade=0.5, max_grade=1)])
    activity_aggregates_refresh(first=DAY, last=DAY)

    # when the next day brings a repeat of the completion and a better grade
    ingest(
        [
            ann.problem(at(1440), "p1", correct=True, grade=1, max_grade=1),
            ann.problem(at(1441), "p3", correct=True, grade=1, max_grade=1),
        ]
    )
    activity_aggregates_refresh(first=DAY + timedelta(days=1), last=DAY + timedelta(days=1))

    assert aggregates() == {("ann", "completedCount"): (2.0, at(1441)), ("ann", "score"): (2.0, at(1441))}
    assert ContentProgress.objects.get(content_id=ann.block("problem", "p1")).completed_at == at(1)


def progress_row(content: str, *, completed: int | None = None, score: float | None = None, scored: int | None = None):
    times = {"completed_at": completed, "scored_at": scored}
    return {"course_id": COURSE, "lms_user_id": 101, "content_id": content, "best_score": score,
            "max_score": None if score is None else 2.0, **{name: at(t) if t is not None else None
                                                             for name, t in times.items()}}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("merged", "written", "kept"),
    [
        ({"completed": 9}, 0, {"completed": 5}),  # a later completion
        ({"completed": 2}, 1, {"completed": 2}),  # an earlier one
        ({"score": 1.0, "scored": 4}, 0, {"score": 1.0, "scored": 3}),  # an equal score, later than the stored
        ({"score": 1.0, "scored": 3}, 0, {"score": 1.0, "scored": 3}),  # the stored row itself
        ({"score": 1.0, "scored": 2}, 1, {"score": 1.0, "scored": 2}),  # an equal score, earlier
        ({"score": 0.5, "scored": 1}, 0, {"score": 1.0, "scored": 3}),  # a lower score
        ({"score": 2.0, "scored": 7}, 1, {"score": 2.0, "scored": 7}),  # a better one
        ({}, 0, {"score": 1.0, "scored": 3}),  # nothing at all
    ],
)
def test_merging_progress_writes_only_the_rows_it_changes(merged, written, kept):
    # given a problem completed at 5 with a score of 1 at 3, and a problem with neither
    stored = [progress_row("p1", completed=5, score=1.0, scored=3), progress_row("p2")]
    assert content_progress_merge(progress=pl.DataFrame(stored, schema=PROGRESS_COLUMNS)) == 2

    # when a row is merged into each
    rows = [progress_row("p1", **merged), progress_row("p2", **merged)]
    changed = content_progress_merge(progress=pl.DataFrame(rows, schema=PROGRESS_COLUMNS))

    # then the first is written only when it changes, and the second whenever the merged row holds anything
    assert changed == written + bool(merged)
    first = ContentProgress.objects.get(content_id="p1")
    expected = progress_row("p1", **{"completed": 5, "score": 1.0, "scored": 3, **kept})
    assert (first.completed_at, first.best_score, first.scored_at) == tuple(
        expected[name] for name in ("completed_at", "best_score", "scored_at")
    )


@pytest.mark.django_db
def test_progress_appears_once_staff_set_the_course_leaf_count(learners):
    ann, bob, _ = learners
    ingest([ann.enrol(at(0)), bob.enrol(at(0)), ann.problem(at(1), "p1", correct=True, grade=1, max_grade=1)])
    activity_aggregates_refresh(first=DAY, last=DAY)

    course_leaf_contents_set(course_id=COURSE, leaf_contents=3)

    assert aggregates()[("ann", "progress")] == (33.33, at(1))
    assert aggregates()[("bob", "progress")] == (0.0, None)


@pytest.mark.django_db
def test_a_course_with_more_learners_than_one_lookup_binds_has_them_all_and_no_one_else(learners, monkeypatch):
    # given a lookup that binds one id, two enrolled learners, and a Tally learner of another course only
    from apps.common import lookups

    monkeypatch.setattr(lookups, "ID_LOOKUP_SIZE", 1)
    ann, bob, _ = learners
    elsewhere = Learner("dan", 104, "course-v1:TestX+OTHER+2026_T1")
    ingest([ann.enrol(at(0)), bob.enrol(at(0)), ann.completion(at(3), "h1"), elsewhere.enrol(at(0))])

    # when the course's day is refreshed
    activity_aggregates_refresh(first=DAY, last=DAY)

    # then each course's enrolled learners have its aggregates, and no one else
    rows = ActivityAggregate.objects.values_list("activity_id", "user__username").distinct()
    assert sorted(rows) == [(COURSE, "ann"), (COURSE, "bob"), (elsewhere.course_id, "dan")]
    assert aggregates()[("ann", "completedCount")] == (1.0, at(3))


@pytest.mark.django_db
@pytest.mark.parametrize("scores", [(0.1, 0.2, 0.7), (0.2, 0.7, 0.1)])
def test_a_score_is_the_exact_sum_of_the_best_scores_in_any_order_of_the_rows(learners, scores):
    # given Ann enrolled, with best scores whose float sum is 1 in the one order, 0.9999999999999999 in the other
    ann, _, _ = learners
    ingest([ann.enrol(at(0))])
    learner_states_build(last=DAY)
    ContentProgress.objects.bulk_create(
        ContentProgress(
            course_id=COURSE,
            lms_user_id=ann.lms_user_id,
            content_id=f"p{n}",
            best_score=score,
            max_score=1,
            scored_at=at(n),
        )
        for n, score in enumerate(scores)
    )

    # when her aggregates are computed
    rows = services.course_aggregates_frame(course_ids=[COURSE])

    # then her score is their exact sum, whichever order the rows are read in
    assert rows.filter(pl.col("metric") == "score")["value"].to_list() == [1.0]


@pytest.mark.django_db
def test_the_task_twice_gives_the_same_rows(learners):
    ann, bob, _ = learners
    ingest([ann.enrol(at(0)), bob.enrol(at(0)), ann.completion(at(3), "h1")])

    refresh(first=DAY.isoformat(), last=DAY.isoformat())
    first = aggregates()
    refresh(first=DAY.isoformat(), last=DAY.isoformat())

    assert aggregates() == first
    assert first[("ann", "completedCount")] == (1.0, at(3))


@pytest.mark.django_db
def test_a_refresh_rewrites_only_the_aggregate_rows_that_changed(learners):
    # given Ann and Bob enrolled, their aggregates written by a refresh
    ann, bob, cid = learners
    ingest([ann.enrol(at(0)), bob.enrol(at(0)), cid.enrol(at(0)), ann.completion(at(3), "h1")])
    activity_aggregates_refresh(first=DAY, last=DAY)
    ids = dict(ActivityAggregate.objects.values_list("pk", "user__username"))

    # when the next day brings Ann a completion and Cid's leaving, and the day is refreshed twice
    ingest([ann.completion(at(1440), "h2"), cid.enrol(at(1441), active=False)])
    later = DAY + timedelta(days=1)
    changed = activity_aggregates_refresh(first=later, last=later)
    rerun = activity_aggregates_refresh(first=later, last=later)

    # then only Ann's completed count is written again (its old row deleted) and Cid's two rows deleted, and a rerun
    # changes nothing
    assert (changed.rows, rerun.rows) == (4, 0)
    kept = dict(ActivityAggregate.objects.values_list("pk", "user__username"))
    assert sorted(kept[pk] for pk in kept.keys() & ids.keys()) == ["ann", "bob", "bob"]
    assert aggregates() == {
        ("ann", "completedCount"): (2.0, at(1440)),
        ("ann", "score"): (0.0, None),
        ("bob", "completedCount"): (0.0, None),
        ("bob", "score"): (0.0, None),
    }


@pytest.mark.django_db
def test_ingest_batches_of_a_day_share_the_refresh_queued_for_it(django_capture_on_commit_callbacks):
    later = DAY + timedelta(days=1)
    with django_capture_on_commit_callbacks() as queued:
        # given a batch of the day that queues its refresh
        first = activity_aggregates_refresh_request(days=[DAY])
        # when more batches come before that refresh starts: of the day, and of the day and the next
        same_day = activity_aggregates_refresh_request(days=[DAY])
        with_next = activity_aggregates_refresh_request(days=[later, DAY, later])
    # then the day's batches share its refresh, and the next day queues its own
    assert (first, same_day, with_next, len(queued)) == (True, False, True, 2)
    assert sorted(RefreshRequest.objects.values_list("day", flat=True)) == [DAY, later]


@pytest.mark.django_db
def test_a_day_asks_for_a_refresh_again_once_its_refresh_started_or_its_request_expired():
    later = DAY + timedelta(days=1)
    activity_aggregates_refresh_request(days=[DAY, later])

    # when the day's refresh starts, and the next day's request is older than a queued task lives
    activity_aggregates_refresh(first=DAY, last=DAY)
    expired = RefreshRequest.objects.get(day=later).requested + timedelta(seconds=REFRESH_EXPIRES_SECONDS + 1)

    # then each asks again
    assert activity_aggregates_refresh_request(days=[DAY])
    assert activity_aggregates_refresh_request(days=[later], now=expired)


@pytest.mark.django_db
def test_the_nightly_refresh_reads_yesterday_and_the_days_whose_requests_were_dropped():
    # given the requests of nine days in a row and of a day after them, dropped from the queue, and a request of
    # today, queued
    dropped = [*(DAY + timedelta(days=offset) for offset in range(9)), DAY + timedelta(days=12)]
    activity_aggregates_refresh_request(days=dropped, now=T0 - timedelta(seconds=REFRESH_EXPIRES_SECONDS + 1))
    activity_aggregates_refresh_request(days=[DAY + timedelta(days=20)], now=T0)

    # when the night of the day before that comes
    runs = activity_aggregates_refresh_nightly(day=DAY + timedelta(days=19), now=T0)

    # then it reads that day, and the dropped days in runs of at most a week of consecutive days
    keys = ["2026-10-24..2026-10-24", "2026-10-05..2026-10-11", "2026-10-12..2026-10-13", "2026-10-17..2026-10-17"]
    assert [run.key for run in runs] == keys
    assert list(RefreshRequest.objects.values_list("day", flat=True)) == [DAY + timedelta(days=20)]


@pytest.mark.django_db
def test_a_refresh_that_fails_leaves_its_days_to_the_next_batch_and_the_night(learners, monkeypatch):
    # given a day asked for, whose refresh fails after it took the request
    ann, _, _ = learners
    ingest([ann.enrol(at(0)), ann.completion(at(3), "h1")])
    activity_aggregates_refresh_request(days=[DAY], now=T0)

    def fail(**kwargs):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(services, "course_aggregates_rebuild", fail)
    with pytest.raises(RuntimeError):
        activity_aggregates_refresh(first=DAY, last=DAY)
    monkeypatch.undo()
    taken = RefreshRequest.objects.get(day=DAY).taken

    # then the request stays: past the refresh's time limit the night reads the day, and the aggregates are written
    runs = activity_aggregates_refresh_nightly(
        day=DAY + timedelta(days=1), now=taken + timedelta(seconds=REFRESH_TIME_LIMIT_SECONDS + 1)
    )
    assert [run.key for run in runs[1:]] == [f"{DAY.isoformat()}..{DAY.isoformat()}"]
    assert aggregates()[("ann", "completedCount")] == (1.0, at(3))
    assert not RefreshRequest.objects.exists()
    # and the next batch of a day whose refresh failed asks again
    activity_aggregates_refresh_request(days=[DAY], now=T0)
    RefreshRequest.objects.update(taken=taken)
    assert activity_aggregates_refresh_request(days=[DAY], now=T0)


@pytest.mark.django_db
def test_a_batch_stored_while_its_day_is_refreshed_asks_again_and_keeps_its_request(learners, monkeypatch):
    ann, _, _ = learners
    ingest([ann.enrol(at(0))])
    activity_aggregates_refresh_request(days=[DAY], now=T0)
    rebuild, asked = services.course_aggregates_rebuild, []

    def batch_meanwhile(**kwargs):
        # a batch of the day stored after the refresh read its events
        asked.append(activity_aggregates_refresh_request(days=[DAY], now=T0 + timedelta(minutes=1)))
        return rebuild(**kwargs)

    monkeypatch.setattr(services, "course_aggregates_rebuild", batch_meanwhile)
    activity_aggregates_refresh(first=DAY, last=DAY)

    # then it queued a refresh of its own, and its request outlives the refresh that read the day before it
    assert asked == [True]
    assert list(RefreshRequest.objects.values_list("day", "taken")) == [(DAY, None)]


@pytest.mark.django_db
def test_the_task_without_days_is_the_nightly_refresh_of_yesterday():
    run = JobRun.objects.get(pk=refresh())

    day = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert (run.kind, run.key, run.status) == (REFRESH_KIND, f"{day}..{day}", "succeeded")


@pytest.mark.django_db
def test_the_rebuild_command_recomputes_a_course_from_its_events(learners):
    ann, _, _ = learners
    ingest([ann.enrol(at(0)), ann.completion(at(3), "h1")])
    activity_aggregates_refresh(first=DAY, last=DAY)
    ContentProgress.objects.update(completed_at=at(-100))  # progress that the events do not support

    call_command("rebuild_activity_aggregates", COURSE, stdout=io.StringIO())

    assert aggregates() == {("ann", "completedCount"): (1.0, at(3)), ("ann", "score"): (0.0, None)}
    assert get_user_model().objects.get(username="ann").lms_user_id == 101


@pytest.mark.postgres
def test_a_refresh_writes_no_progress_before_it_holds_its_courses_lock(learners, transactional_db):
    # Two refreshes merging the same progress rows, each in the order of its own frame, deadlocked: a refresh
    # queues on the course before its first write.
    ann, bob, _ = learners
    ingest([ann.enrol(at(0)), bob.enrol(at(0)), ann.completion(at(3), "h1"), bob.completion(at(4), "h1")])
    ContentProgress.objects.all().delete()
    runs = []

    def run_refresh() -> None:
        try:
            runs.append(activity_aggregates_refresh(first=DAY, last=DAY))
        finally:
            connection.close()

    def count(sql: str, *params: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    queued_on_advisory_lock = (
        "pg_locks waits WHERE waits.locktype = 'advisory' AND NOT waits.granted "
        "AND waits.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with job_lock(kind=REFRESH_KIND, key=COURSE):
        refreshing = threading.Thread(target=run_refresh)
        refreshing.start()
        queued = wait_for(lambda: count(f"SELECT count(*) FROM {queued_on_advisory_lock}") > 0)
        progress_locked = count(
            f"SELECT count(*) FROM {queued_on_advisory_lock} AND EXISTS "
            "(SELECT 1 FROM pg_locks held WHERE held.pid = waits.pid AND held.relation = %s::regclass)",
            ContentProgress._meta.db_table,
        )
    refreshing.join(timeout=60)

    assert queued
    assert progress_locked == 0
    assert [run.status for run in runs] == ["succeeded"]
    assert ContentProgress.objects.count() == 2
