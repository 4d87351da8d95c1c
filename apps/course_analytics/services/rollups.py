"""Nightly rollups of tracking events into the tables the Analytics Data API serves, as the reference pipeline
defines them. The work is set-based in polars; each run rewrites its (kind, day) in one transaction, so that
readers see either the old figures or the new ones, and a rerun gives the same rows.
"""

from datetime import UTC, date, datetime, time, timedelta

import polars as pl
from django.utils import timezone
from django_countries import countries

from apps.common.frames import queryset_frame
from apps.common.models import JobRun
from apps.common.services import job_run_execute
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


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def week_of(day: date) -> tuple[date, date]:
    """The ISO week (Monday, next Monday) that contains `day`."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


# Enrollment ------------------------------------------------------------------------------------------------------


def enrollment_states(*, day: date) -> pl.DataFrame:
    """Per (course, learner) with any enrollment event up to the end of `day`: `at_end` (enrolled at the end of the
    day) and `mode` (end-of-day mode).

    The per-user state machine of the reference reduces to this: the last activation or deactivation decides the
    state (duplicates change nothing), and every enrollment event, mode changes included, overwrites the mode.
    """
    events = queryset_frame(
        TrackingEvent.objects.filter(event_type__in=ENROLLMENT_EVENTS, day__lte=day, lms_user_id__isnull=False),
        EVENT_SCHEMA,
    )
    state_event = pl.col("event_type").is_in([ACTIVATED, DEACTIVATED])
    return (
        events.sort("time", "id")
        .group_by("course_id", "lms_user_id")
        .agg(
            mode=pl.col("mode").last(),
            at_end=(pl.col("event_type").filter(state_event).last() == ACTIVATED).fill_null(False),
        )
        .with_columns(pl.col("at_end").cast(pl.Int64))
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
    return states.group_by("course_id", *keys).agg(count=pl.col("at_end").sum(), cumulative_count=pl.len())


def enrollment_tables(*, day: date) -> dict[type, pl.DataFrame]:
    """Every enrollment table's rows for `day`, keyed by model (columns named as the model's fields)."""
    states = enrollment_states(day=day).join(_profiles(), on="lms_user_id", how="left")
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


def activity_table(*, week_start: date) -> pl.DataFrame:
    """Distinct learners per course and activity type in the ISO week starting `week_start`.

    "any" is every event of a learner in the course except enrollment events and events the platform itself
    emitted (`event_source` task); the other types are as the reference labels them.
    """
    events = queryset_frame(
        TrackingEvent.objects.filter(
            day__gte=week_start, day__lt=week_start + timedelta(days=7), lms_user_id__isnull=False
        ).exclude(event_source="task"),
        {"course_id": pl.String, "lms_user_id": pl.Int64, "event_type": pl.String, "event_source": pl.String},
    ).filter(~pl.col("event_type").str.starts_with("edx.course.enrollment."))
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
    return labelled.group_by("course_id", "activity_type").agg(count=pl.col("lms_user_id").n_unique())


# Videos ----------------------------------------------------------------------------------------------------------


def video_table() -> pl.DataFrame:
    """Per course video: duration, and distinct viewers of its first segment and of the segment near its end.

    A viewing runs from a play to the learner's next event on that video (pause, seek, stop or play); viewings
    under MIN_VIEWING_SECONDS are dropped. The end segment is the one holding max(duration - 30, 0.95 duration),
    so that credits do not count. Duration is the longest the events report, else the furthest position seen.
    """
    events = queryset_frame(
        TrackingEvent.objects.exclude(video_id="").filter(lms_user_id__isnull=False),
        {"course_id": pl.String, "video_id": pl.String, "lms_user_id": pl.Int64, "event_type": pl.String,
         "time": pl.Datetime("us", "UTC"), "id": pl.Int64, "video_position": pl.Float64,
         "video_duration": pl.Float64},
    ).sort("time", "id")  # fmt: skip
    viewer = ["course_id", "video_id", "lms_user_id"]
    viewings = (
        events.with_columns(end=pl.col("video_position").shift(-1).over(viewer))
        .filter((pl.col("event_type") == "play_video") & pl.col("video_position").is_not_null())
        .rename({"video_position": "start"})
        .filter(pl.col("end").is_not_null() & (pl.col("end") - pl.col("start") >= MIN_VIEWING_SECONDS))
        .filter(pl.col("end") <= MAX_VIDEO_SECONDS)
    )
    durations = events.group_by("course_id", "video_id").agg(
        duration=pl.coalesce(pl.col("video_duration").max(), pl.col("video_position").max())
    )
    end_segment_start = (
        pl.max_horizontal(pl.col("duration") - 30, pl.col("duration") * 0.95) / SEGMENT_LENGTH
    ).floor() * SEGMENT_LENGTH
    return (
        viewings.join(durations, on=["course_id", "video_id"])
        .with_columns(end_start=end_segment_start)
        .group_by("course_id", "video_id")
        .agg(
            duration=pl.col("duration").first(),
            users_at_start=pl.col("lms_user_id").filter(pl.col("start") < SEGMENT_LENGTH).n_unique(),
            users_at_end=pl.col("lms_user_id")
            .filter((pl.col("start") < pl.col("end_start") + SEGMENT_LENGTH) & (pl.col("end") > pl.col("end_start")))
            .n_unique(),
        )
        .filter(pl.col("duration").is_not_null())
    )


# Writing ---------------------------------------------------------------------------------------------------------


def _rows(model: type, frame: pl.DataFrame, **constant) -> list:
    return [model(**row, **constant) for row in frame.to_dicts()]


def _replace(model: type, scope: dict, objects: list) -> int:
    model.objects.filter(**scope).delete()
    model.objects.bulk_create(objects, batch_size=2000)
    return len(objects)


def course_analytics_rollup(*, day: date) -> JobRun:
    """Recompute every rollup that `day` feeds: enrollment tables for `day`, the ISO week holding `day` once that
    week is over (the current partial week never is), and the video summaries.

    Idempotent on ("course_analytics.rollup", day): a rerun rewrites the same rows; a failure changes nothing.
    """

    def work() -> int:
        now = timezone.now()
        written = sum(
            _replace(model, {"date": day}, _rows(model, frame, date=day, created=now))
            for model, frame in enrollment_tables(day=day).items()
        )
        week_start, week_end = week_of(day)
        if week_end <= now.date():
            interval = {"interval_start": _midnight(week_start), "interval_end": _midnight(week_end)}
            frame = activity_table(week_start=week_start)
            written += _replace(ActivityWeekly, interval, _rows(ActivityWeekly, frame, **interval, created=now))
        videos = (
            video_table()
            .with_columns(
                pipeline_video_id=pl.col("course_id") + "|" + pl.col("video_id"),
                duration=pl.col("duration").round().cast(pl.Int64),
            )
            .rename({"video_id": "encoded_module_id"})
        )
        written += _replace(VideoSummary, {}, _rows(VideoSummary, videos, segment_length=SEGMENT_LENGTH, created=now))
        return written

    return job_run_execute(kind=ROLLUP_KIND, key=day.isoformat(), work=work)


def yesterday() -> date:
    return timezone.now().date() - timedelta(days=1)
