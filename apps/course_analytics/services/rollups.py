"""Rollups of tracking events into the tables the Analytics Data API serves, as the reference pipeline defines
them. The work is set-based in polars over a range of days; each run rewrites the rows of its days in one
transaction, so that readers see either the old figures or the new ones, and a rerun gives the same rows.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta

import polars as pl
from django.db import connection
from django.utils import timezone
from django_countries import countries

from apps.common.dates import day_start
from apps.common.frames import frame_insert, queryset_frame
from apps.common.models import JobRun
from apps.common.services import job_lock, job_run_execute
from apps.course_analytics.models import (
    ActivityWeekly,
    EnrollmentBirthYearDaily,
    EnrollmentDaily,
    EnrollmentEducationDaily,
    EnrollmentGenderDaily,
    EnrollmentLocationDaily,
    EnrollmentModeDaily,
    LearnerProfile,
    TrackingEvent,
    VideoSummary,
    VideoViewing,
)
from apps.course_analytics.services.ingest import ENROLLMENT_EVENTS

ROLLUP_KIND = "course_analytics.rollup"
ACTIVATED, DEACTIVATED = "edx.course.enrollment.activated", "edx.course.enrollment.deactivated"
EDUCATION_LEVELS = {
    "el": "primary", "jhs": "junior_secondary", "hs": "secondary", "a": "associates", "b": "bachelors",
    "m": "masters", "p": "doctorate", "p_se": "doctorate", "p_oth": "doctorate", "none": "none", "other": "other",
}  # fmt: skip
UNKNOWN_COUNTRY = "UNKNOWN"
SEGMENT_LENGTH = 5
MIN_VIEWING_SECONDS = 0.25
MAX_VIDEO_SECONDS = 10 * 3600
EVENT_SCHEMA = {"course_id": pl.String, "lms_user_id": pl.Int64, "event_type": pl.String, "mode": pl.String,
                "time": pl.Datetime("us", "UTC"), "id": pl.Int64}  # fmt: skip


def week_of(day: date) -> tuple[date, date]:
    """The ISO week (Monday, next Monday) that contains `day`."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


# Enrollment ------------------------------------------------------------------------------------------------------


def enrollment_states(*, first: date, last: date) -> pl.DataFrame:
    """Per (course, learner, date) for every date in [first, last] from the learner's first enrollment event on:
    `at_end` (enrolled at the end of that UTC day) and `mode` (end-of-day mode).

    The per-user state machine of the reference reduces to this: the last activation or deactivation so far decides
    the state (duplicates change nothing), and every enrollment event, mode changes included, sets the mode. Each
    learner's state after each day with events is carried forward over the days that follow (an as-of join).
    """
    events = queryset_frame(
        TrackingEvent.objects.filter(event_type__in=ENROLLMENT_EVENTS, day__lte=last, lms_user_id__isnull=False),
        EVENT_SCHEMA,
    )
    learner = ["course_id", "lms_user_id"]
    changes = (
        events.sort("time", "id")
        .with_columns(
            at_end=pl.when(pl.col("event_type") == ACTIVATED)
            .then(1)
            .when(pl.col("event_type") == DEACTIVATED)
            .then(0)
            .otherwise(None)
            .forward_fill()
            .over(learner)
            .fill_null(0),
            day=pl.col("time").dt.date(),
        )
        .group_by(*learner, "day", maintain_order=True)
        .agg(pl.col("at_end").last(), pl.col("mode").last())
        .sort("day")
    )
    calendar = (
        changes.group_by(learner)
        .agg(since=pl.col("day").min())
        .with_columns(date=pl.date_ranges(pl.max_horizontal("since", pl.lit(first)), pl.lit(last)))
        .explode("date")
        .drop("since")
        .drop_nulls("date")
        .sort("date")
    )
    return calendar.join_asof(
        changes.rename({"day": "date"}), on="date", by=learner, strategy="backward", check_sortedness=False
    )


def _profiles() -> pl.DataFrame:
    return queryset_frame(
        LearnerProfile.objects.all(),
        {"lms_user_id": pl.Int64, "year_of_birth": pl.Int64, "level_of_education": pl.String, "gender": pl.String,
         "country": pl.String},
    )  # fmt: skip


def _valid_countries() -> list[str]:
    return [code for code, _ in countries]


def _counts(states: pl.DataFrame, *keys: str) -> pl.DataFrame:
    return states.group_by("course_id", "date", *keys).agg(count=pl.col("at_end").sum(), cumulative_count=pl.len())


def enrollment_tables(*, first: date, last: date) -> dict[type, pl.DataFrame]:
    """Every enrollment table's rows for the days [first, last], keyed by model (columns named as its fields)."""
    states = enrollment_states(first=first, last=last).join(_profiles(), on="lms_user_id", how="left")
    demographics = states.with_columns(
        gender=pl.when(pl.col("gender").is_in(["", None])).then(None).otherwise(pl.col("gender")),
        education_level=pl.col("level_of_education").replace_strict(EDUCATION_LEVELS, default=None),
        birth_year=pl.col("year_of_birth"),
        country_code=pl.when(pl.col("country").is_in(_valid_countries()))
        .then(pl.col("country"))
        .otherwise(pl.lit(UNKNOWN_COUNTRY)),
    )
    return {
        EnrollmentDaily: _counts(states),
        EnrollmentModeDaily: _counts(states, "mode"),
        EnrollmentGenderDaily: _counts(demographics, "gender"),
        EnrollmentBirthYearDaily: _counts(demographics, "birth_year"),
        EnrollmentEducationDaily: _counts(demographics, "education_level"),
        EnrollmentLocationDaily: _counts(demographics, "country_code"),
    }


# Weekly activity -------------------------------------------------------------------------------------------------


def activity_table(*, first_week: date, end: date) -> pl.DataFrame:
    """Distinct learners per course, activity type and ISO week, for the weeks from the one starting `first_week`
    up to `end` (a Monday, excluded). `interval_start`/`interval_end` name each week.

    "any" is every event of a learner in the course except enrollment events and events the platform itself
    emitted (`event_source` task); the other types are as the reference labels them.
    """
    events = queryset_frame(
        TrackingEvent.objects.filter(day__gte=first_week, day__lt=end, lms_user_id__isnull=False).exclude(
            event_source="task"
        ),
        {"course_id": pl.String, "lms_user_id": pl.Int64, "event_type": pl.String, "event_source": pl.String,
         "day": pl.Date},
    ).filter(~pl.col("event_type").str.starts_with("edx.course.enrollment."))  # fmt: skip
    server = pl.col("event_source") == "server"
    labelled = pl.concat(
        [
            events.with_columns(activity_type=pl.lit("any")),
            events.filter(server & (pl.col("event_type") == "problem_check")).with_columns(
                activity_type=pl.lit("attempted_problem")
            ),
            events.filter(
                pl.col("event_source").is_in(["browser", "mobile"]) & (pl.col("event_type") == "play_video")
            ).with_columns(activity_type=pl.lit("played_video")),
            events.filter(server & pl.col("event_type").str.contains(r"^edx\.forum\..+\.created$")).with_columns(
                activity_type=pl.lit("posted_forum")
            ),
        ]
    )
    week_start = pl.col("day").dt.truncate("1w").cast(pl.Datetime("us", "UTC"))
    return (
        labelled.with_columns(interval_start=week_start, interval_end=week_start.dt.offset_by("1w"))
        .group_by("course_id", "interval_start", "interval_end", "activity_type")
        .agg(count=pl.col("lms_user_id").n_unique())
    )


# Videos ----------------------------------------------------------------------------------------------------------


def video_viewings_table(*, first: date, last: date) -> pl.DataFrame:
    """The viewings of the days [first, last]: a viewing runs from a play to the learner's next event on that video
    the same day (pause, seek, stop or play); viewings under MIN_VIEWING_SECONDS, or ending past
    MAX_VIDEO_SECONDS, are dropped. Each carries its learner-day's longest reported duration and furthest position.
    """
    events = queryset_frame(
        TrackingEvent.objects.exclude(video_id="").filter(lms_user_id__isnull=False, day__gte=first, day__lte=last),
        {"course_id": pl.String, "video_id": pl.String, "lms_user_id": pl.Int64, "day": pl.Date,
         "event_type": pl.String, "time": pl.Datetime("us", "UTC"), "id": pl.Int64, "video_position": pl.Float64,
         "video_duration": pl.Float64},
    ).sort("time", "id")  # fmt: skip
    viewer_day = ["course_id", "video_id", "lms_user_id", "day"]
    return (
        events.with_columns(
            end_position=pl.col("video_position").shift(-1).over(viewer_day),
            reported_duration=pl.col("video_duration").max().over(viewer_day),
            furthest=pl.col("video_position").max().over(viewer_day),
        )
        .filter((pl.col("event_type") == "play_video") & pl.col("video_position").is_not_null())
        .rename({"video_position": "start_position"})
        .filter(
            pl.col("end_position").is_not_null()
            & (pl.col("end_position") - pl.col("start_position") >= MIN_VIEWING_SECONDS)
            & (pl.col("end_position") <= MAX_VIDEO_SECONDS)
        )
        .select(*viewer_day, "start_position", "end_position", "reported_duration", "furthest")
    )


VIDEO_SUMMARY_SQL = """
WITH durations AS (
    SELECT course_id, video_id, COALESCE(MAX(reported_duration), MAX(furthest)) AS duration
    FROM course_analytics_videoviewing GROUP BY course_id, video_id
), segments AS (
    SELECT course_id, video_id, duration,
           FLOOR({greatest}(duration - 30, duration * 0.95) / %(segment)s) * %(segment)s AS end_start
    FROM durations WHERE duration IS NOT NULL
)
SELECT s.course_id, s.video_id, s.duration,
       COUNT(DISTINCT CASE WHEN v.start_position < %(segment)s THEN v.lms_user_id END),
       COUNT(DISTINCT CASE WHEN v.start_position < s.end_start + %(segment)s AND v.end_position > s.end_start
                           THEN v.lms_user_id END)
FROM segments s JOIN course_analytics_videoviewing v ON v.course_id = s.course_id AND v.video_id = s.video_id
GROUP BY s.course_id, s.video_id, s.duration
"""


def video_summaries(*, now: datetime) -> list[VideoSummary]:
    """Per course video, over every viewing so far: duration (the longest reported, else the furthest position),
    and the distinct viewers of its first segment and of the segment holding max(duration - 30, 0.95 duration),
    so that credits do not count. One aggregate query in the database."""
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    with connection.cursor() as cursor:
        cursor.execute(VIDEO_SUMMARY_SQL.format(greatest=greatest), {"segment": SEGMENT_LENGTH})
        rows = cursor.fetchall()
    return [
        VideoSummary(pipeline_video_id=f"{course_id}|{video_id}", course_id=course_id, encoded_module_id=video_id,
                     duration=round(duration), segment_length=SEGMENT_LENGTH, users_at_start=at_start,
                     users_at_end=at_end, created=now)
        for course_id, video_id, duration, at_start, at_end in rows
    ]  # fmt: skip


# Writing ---------------------------------------------------------------------------------------------------------


def _rows(model: type, frame: pl.DataFrame, **constant) -> list:
    return [model(**row, **constant) for row in frame.to_dicts()]


def _replace(model: type, scope: dict, objects: list) -> int:
    model.objects.filter(**scope).delete()
    model.objects.bulk_create(objects, batch_size=2000)
    return len(objects)


def _complete_weeks(first: date, last: date, today: date) -> tuple[date, date] | None:
    """[first Monday, end Monday) of the ISO weeks that hold a day of [first, last] and are over by `today`."""
    week_start, _ = week_of(first)
    _, end = week_of(last)
    while end > today:
        end -= timedelta(days=7)
    return (week_start, end) if week_start < end else None


def course_analytics_rollup_range(*, first: date, last: date) -> JobRun:
    """Recompute every rollup that the days [first, last] feed, in one pass and one transaction: the enrollment
    tables of each day, the ISO weeks holding those days that are over (the current partial week never is), the
    video viewings of those days, and the video summaries over all viewings rolled up so far.

    Idempotent: recorded as ("course_analytics.rollup", first[..last]); a rerun rewrites the same rows and a failure
    changes nothing. Runs of the kind queue behind one another, so that overlapping ranges never interleave.
    """

    def work() -> int:
        now = timezone.now()
        written = sum(
            _replace(model, {"date__gte": first, "date__lte": last}, _rows(model, frame, created=now))
            for model, frame in enrollment_tables(first=first, last=last).items()
        )
        weeks = _complete_weeks(first, last, now.date())
        week = weeks[0] if weeks else None
        while week is not None and week < weeks[1]:  # a week at a time bounds the events held in memory
            scope = {"interval_start": day_start(week)}
            frame = activity_table(first_week=week, end=week + timedelta(days=7))
            written += _replace(ActivityWeekly, scope, _rows(ActivityWeekly, frame, created=now))
            week += timedelta(days=7)
        VideoViewing.objects.filter(day__gte=first, day__lte=last).delete()
        viewings = video_viewings_table(first=first, last=last)
        written += frame_insert(table=VideoViewing._meta.db_table, frame=viewings)
        written += _replace(VideoSummary, {}, video_summaries(now=now))
        return written

    key = first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"
    with job_lock(kind=ROLLUP_KIND, key="*"):
        return job_run_execute(kind=ROLLUP_KIND, key=key, work=work)


# Days rolled up in one pass by a backfill: long enough to be set-based, short enough to bound memory.
BACKFILL_CHUNK_DAYS = 31


def course_analytics_backfill(*, first: date, last: date, progress: Callable[[int], None] | None = None) -> int:
    """Roll up [first, last] oldest first, BACKFILL_CHUNK_DAYS days per pass (each its own idempotent run).

    Returns the number of days; `progress` is told how many days each pass covered.
    """
    total = (last - first).days + 1
    for offset in range(0, total, BACKFILL_CHUNK_DAYS):
        chunk_first = first + timedelta(days=offset)
        chunk_last = min(chunk_first + timedelta(days=BACKFILL_CHUNK_DAYS - 1), last)
        course_analytics_rollup_range(first=chunk_first, last=chunk_last)
        if progress:
            progress((chunk_last - chunk_first).days + 1)
    return total


def course_analytics_rollup(*, day: date) -> JobRun:
    """The nightly rollup of one UTC day (see course_analytics_rollup_range). Idempotent on the day."""
    return course_analytics_rollup_range(first=day, last=day)


def yesterday() -> date:
    return timezone.now().date() - timedelta(days=1)
