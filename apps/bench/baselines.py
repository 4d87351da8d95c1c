"""Baselines, written for the bench alone: polars over Parquet of the same events, and hand-written SQL."""

from datetime import date, timedelta

import polars as pl

ACTIVATED, DEACTIVATED = "edx.course.enrollment.activated", "edx.course.enrollment.deactivated"


def enrollment_all_days(events: pl.LazyFrame, *, last_day: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Daily enrollment and per-mode enrollment for every day up to `last_day`, in one pass: each learner's state
    after each day with events, carried forward over a calendar of the days after their first event."""
    changes = (
        events.filter(
            pl.col("event_type").str.starts_with("edx.course.enrollment.") & pl.col("lms_user_id").is_not_null()
        )
        .sort("time", "id")
        .with_columns(
            state=pl.when(pl.col("event_type") == ACTIVATED)
            .then(1)
            .when(pl.col("event_type") == DEACTIVATED)
            .then(0)
            .otherwise(None)
            .forward_fill()
            .over("course_id", "lms_user_id")
            .fill_null(0)
        )
        .group_by("course_id", "lms_user_id", "day", maintain_order=True)
        .agg(pl.col("state").last(), pl.col("mode").last())
        .sort("day")
    )
    calendar = (
        changes.group_by("course_id", "lms_user_id")
        .agg(first=pl.col("day").min())
        .with_columns(day=pl.date_ranges("first", pl.lit(last_day)))
        .explode("day")
        .drop("first")
        .sort("day")
    )
    daily_state = calendar.join_asof(
        changes, on="day", by=["course_id", "lms_user_id"], strategy="backward", check_sortedness=False
    )
    daily = daily_state.group_by("course_id", "day").agg(count=pl.col("state").sum(), cumulative_count=pl.len())
    modes = daily_state.group_by("course_id", "day", "mode").agg(count=pl.col("state").sum(), cumulative_count=pl.len())
    return daily.collect(), modes.collect()


def activity_all_weeks(events: pl.LazyFrame, *, last_complete_day: date) -> pl.DataFrame:
    """Distinct learners per course, ISO week and activity type, over complete weeks."""
    usable = events.filter(
        pl.col("lms_user_id").is_not_null()
        & (pl.col("event_source") != "task")
        & ~pl.col("event_type").str.starts_with("edx.course.enrollment.")
        & (pl.col("day") <= last_complete_day)
    ).with_columns(week=pl.col("day").dt.truncate("1w"))
    labels = pl.concat(
        [
            usable.with_columns(activity_type=pl.lit("any")),
            usable.filter(
                (pl.col("event_source") == "server") & (pl.col("event_type") == "problem_check")
            ).with_columns(activity_type=pl.lit("attempted_problem")),
            usable.filter(
                pl.col("event_source").is_in(["browser", "mobile"]) & (pl.col("event_type") == "play_video")
            ).with_columns(activity_type=pl.lit("played_video")),
            usable.filter(
                (pl.col("event_source") == "server") & pl.col("event_type").str.contains(r"^edx\.forum\..+\.created$")
            ).with_columns(activity_type=pl.lit("posted_forum")),
        ]
    )
    return labels.group_by("course_id", "week", "activity_type").agg(count=pl.col("lms_user_id").n_unique()).collect()


def last_complete_day(first: date, days: int) -> date:
    """The last Sunday within the generated days (weeks past it are partial)."""
    last = first + timedelta(days=days - 1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


GROUP_COUNT_SQL = """
SELECT COUNT(*) FROM groups_group
WHERE created_at >= %s AND created_at < %s
  AND (status = %s OR status = %s)
  AND (type = %s OR open_access = %s)
  AND (slug LIKE %s OR project_number >= %s)
"""
