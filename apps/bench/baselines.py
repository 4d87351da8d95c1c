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
        .sort("time", "event_key")
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


DUCKDB_DAILY_SQL = """
WITH events AS (
    SELECT course_id, lms_user_id, day, time, event_key, mode,
           CASE event_type WHEN $activated THEN 1 WHEN $deactivated THEN 0 END AS change
    FROM read_parquet($files, hive_partitioning = true)
    WHERE event_type LIKE 'edx.course.enrollment.%' AND lms_user_id IS NOT NULL
), states AS (
    SELECT course_id, lms_user_id, day, time, event_key, mode,
           coalesce(last_value(change IGNORE NULLS) OVER (
               PARTITION BY course_id, lms_user_id ORDER BY time, event_key
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), 0) AS state
    FROM events
), changes AS (
    SELECT course_id, lms_user_id, day, state, mode FROM states
    QUALIFY row_number() OVER (PARTITION BY course_id, lms_user_id, day ORDER BY time DESC, event_key DESC) = 1
), calendar AS (
    SELECT course_id, lms_user_id, unnest(generate_series(min(day), $last_day::DATE, INTERVAL 1 DAY))::DATE AS day
    FROM changes GROUP BY course_id, lms_user_id
), daily AS (
    SELECT c.course_id, c.day, s.state, s.mode
    FROM calendar c ASOF JOIN changes s
      ON c.course_id = s.course_id AND c.lms_user_id = s.lms_user_id AND c.day >= s.day
)
SELECT course_id, day, sum(state)::BIGINT AS count, count(*)::BIGINT AS cumulative_count FROM daily GROUP BY ALL
"""

DUCKDB_WEEKLY_SQL = """
WITH usable AS (
    SELECT course_id, lms_user_id, event_type, event_source, date_trunc('week', day)::DATE AS week
    FROM read_parquet($files, hive_partitioning = true)
    WHERE lms_user_id IS NOT NULL AND event_source <> 'task' AND event_type NOT LIKE 'edx.course.enrollment.%'
      AND day <= $last_complete_day::DATE
), labelled AS (
    SELECT course_id, week, lms_user_id, 'any' AS activity_type FROM usable
    UNION ALL SELECT course_id, week, lms_user_id, 'attempted_problem' FROM usable
        WHERE event_source = 'server' AND event_type = 'problem_check'
    UNION ALL SELECT course_id, week, lms_user_id, 'played_video' FROM usable
        WHERE event_source IN ('browser', 'mobile') AND event_type = 'play_video'
    UNION ALL SELECT course_id, week, lms_user_id, 'posted_forum' FROM usable
        WHERE event_source = 'server' AND regexp_matches(event_type, '^edx\\.forum\\..+\\.created$')
)
SELECT course_id, week, activity_type, count(DISTINCT lms_user_id)::BIGINT AS count FROM labelled GROUP BY ALL
"""


def duckdb_rollups(files: list[str], *, last_day: date, last_complete_day: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Daily enrollment and weekly activity for every day and complete week, in DuckDB SQL over the Parquet files."""
    import duckdb

    def frame(con, sql: str, params: dict) -> pl.DataFrame:
        # The results are a few rows per course and day; rows are enough (DuckDB's own Arrow export needs pyarrow).
        rows = con.execute(sql, params).fetchall()
        return pl.DataFrame(rows, schema=[column[0] for column in con.description], orient="row")

    with duckdb.connect() as con:
        params = {"files": files, "activated": ACTIVATED, "deactivated": DEACTIVATED, "last_day": last_day}
        daily = frame(con, DUCKDB_DAILY_SQL, params)
        weeks = frame(con, DUCKDB_WEEKLY_SQL, {"files": files, "last_complete_day": last_complete_day})
    return daily, weeks
