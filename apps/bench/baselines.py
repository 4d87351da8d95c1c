"""Baselines, written for the bench alone: polars over Parquet of the same events, and hand-written SQL."""

from datetime import date, timedelta
from pathlib import Path

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


def _usable(events: pl.LazyFrame) -> pl.LazyFrame:
    """The events that count as activity: a learner's, neither the platform's own (`task`) nor enrollment events."""
    return events.filter(
        pl.col("lms_user_id").is_not_null()
        & (pl.col("event_source") != "task")
        & ~pl.col("event_type").str.starts_with("edx.course.enrollment.")
    )


# Each activity type but "any": whether an event is of it.
ACTIVITY_TYPES = {
    "attempted_problem": (pl.col("event_source") == "server") & (pl.col("event_type") == "problem_check"),
    "played_video": pl.col("event_source").is_in(["browser", "mobile"]) & (pl.col("event_type") == "play_video"),
    "posted_forum": (pl.col("event_source") == "server")
    & pl.col("event_type").str.contains(r"^edx\.forum\..+\.created$"),
}


def activity_all_weeks(events: pl.LazyFrame, *, last_complete_day: date) -> pl.DataFrame:
    """Distinct learners per course, ISO week and activity type, over complete weeks."""
    usable = (
        _usable(events).filter(pl.col("day") <= last_complete_day).with_columns(week=pl.col("day").dt.truncate("1w"))
    )
    labels = pl.concat(
        [
            usable.with_columns(activity_type=pl.lit("any")),
            *(
                usable.filter(is_type).with_columns(activity_type=pl.lit(name))
                for name, is_type in ACTIVITY_TYPES.items()
            ),
        ]
    )
    return labels.group_by("course_id", "week", "activity_type").agg(count=pl.col("lms_user_id").n_unique()).collect()


LEARNER = ["course_id", "lms_user_id"]


def _day_ends(events: pl.LazyFrame) -> pl.LazyFrame:
    """Per learner with enrollment events in `events`: `decided`, their last activation (true) or deactivation
    (false), null when they have neither, and `mode`, the last mode of their enrollment events."""
    event_type = pl.col("event_type")
    decided = pl.when(event_type == ACTIVATED).then(True).when(event_type == DEACTIVATED).then(False)
    return (
        events.filter(event_type.str.starts_with("edx.course.enrollment.") & pl.col("lms_user_id").is_not_null())
        .sort("time", "event_key")
        .group_by(LEARNER)
        .agg(decided=decided.drop_nulls().last(), mode=pl.col("mode").last())
    )


def _day_actives(events: pl.LazyFrame) -> pl.LazyFrame:
    """The learners active in a course in `events`, once each, with whether they were active in each type."""
    return _usable(events).group_by(LEARNER).agg(is_type.any().alias(name) for name, is_type in ACTIVITY_TYPES.items())


def night_prepare(events: pl.LazyFrame, *, day: date, folder: Path) -> None:
    """What a night of `day` in polars starts from, as the nights before it left it, in `folder`: every learner's
    enrollment state at the end of the day before (state.parquet), that day's enrollment counts by course and mode
    (modes.parquet), and the active learners of each day of `day`'s ISO week before it (active-<day>.parquet)."""
    before = events.filter(pl.col("day") < day)
    state = _day_ends(before).select(*LEARNER, enrolled=pl.col("decided").fill_null(False), mode="mode").collect()
    state.write_parquet(folder / "state.parquet")
    modes = state.group_by("course_id", "mode").agg(
        count=pl.col("enrolled").sum().cast(pl.Int64), cumulative_count=pl.len().cast(pl.Int64)
    )
    modes.write_parquet(folder / "modes.parquet")
    for earlier in range(day.weekday()):
        weekday = day - timedelta(days=day.weekday() - earlier)
        _day_actives(events.filter(pl.col("day") == weekday)).collect().write_parquet(
            folder / f"active-{weekday}.parquet"
        )


def night(day_events: pl.LazyFrame, *, day: date, folder: Path) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The night of `day` in polars, from `day_events` (its partition) and what night_prepare left in `folder`: the
    day's enrollment counts by course and by course and mode (the day before's, moved by the day's changes of
    state), and the activity of `day`'s ISO week so far (all of it on its Sunday). It writes what the next
    night starts from, as a pipeline would: the day's changes of state and its active learners."""
    state = pl.scan_parquet(folder / "state.parquet").rename({"enrolled": "enrolled_before", "mode": "mode_before"})
    changes = (
        _day_ends(day_events)
        .join(state, on=LEARNER, how="left")
        .with_columns(enrolled=pl.coalesce("decided", "enrolled_before", pl.lit(False)))
        .collect()
    )
    changes.select(*LEARNER, "enrolled", "mode").write_parquet(folder / f"state-{day}.parquet")
    moves = pl.concat(
        [
            pl.read_parquet(folder / "modes.parquet"),
            changes.select(
                "course_id", "mode", count=pl.col("enrolled").cast(pl.Int64), cumulative_count=pl.lit(1, pl.Int64)
            ),
            changes.filter(pl.col("enrolled_before").is_not_null()).select(
                "course_id",
                mode="mode_before",
                count=-pl.col("enrolled_before").cast(pl.Int64),
                cumulative_count=pl.lit(-1, pl.Int64),
            ),
        ]
    )
    modes = moves.group_by("course_id", "mode").agg(pl.col("count", "cumulative_count").sum())
    modes = modes.filter(pl.col("cumulative_count") > 0).with_columns(day=pl.lit(day))
    daily = modes.group_by("course_id", "day").agg(pl.col("count", "cumulative_count").sum())
    active = _day_actives(day_events).collect()
    active.write_parquet(folder / f"active-{day}.parquet")
    earlier = [
        pl.scan_parquet(folder / f"active-{day - timedelta(days=n)}.parquet") for n in range(1, day.weekday() + 1)
    ]
    week = pl.concat([*earlier, active.lazy()])
    types = list(ACTIVITY_TYPES)
    # Counted here, not by Tally's activity_table (the same grouping): the bench checks the two equal, which means
    # something only while they are two programs.
    weekly = (
        week.with_columns(pl.col("course_id").cast(pl.Categorical))
        .group_by(LEARNER)
        .agg(pl.col(types).any())
        .group_by("course_id")
        .agg(pl.len().alias("any"), pl.col(types).sum())
        .unpivot(index="course_id", variable_name="activity_type", value_name="count")
        .filter(pl.col("count") > 0)
        .select(
            pl.col("course_id").cast(pl.String),
            week=pl.lit(day - timedelta(days=day.weekday())),
            activity_type="activity_type",
            count=pl.col("count").cast(pl.Int64),
        )
        .collect()
    )
    return daily, modes, weekly


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


def dataset_statistics(sessions_file: str, memberships_file: str, *, depth: int, fields: list[str]) -> pl.DataFrame:
    """Every node's statistics of a sessions-summary-by-group dataset, straight from the NDJSON files: a user's
    totals over their listed sessions, then one aggregation per hierarchy level over the path prefix."""
    sessions = pl.scan_ndjson(
        sessions_file,
        schema={"session_id": pl.String, "activity_id": pl.String, "score": pl.Float64, "max_score": pl.Float64,
                "attempted_max_score": pl.Float64},
    )  # fmt: skip
    members = pl.scan_ndjson(
        memberships_file,
        schema={"user_id": pl.String, "session_id": pl.List(pl.String), "group_path": pl.List(pl.String)},
    )
    totals = (
        members.select("user_id", "session_id")
        .explode("session_id")
        .join(sessions, on="session_id")
        .group_by("user_id")
        .agg(
            score=pl.col("score").sum(),
            max_score=pl.col("max_score").sum(),
            attempted=pl.col("attempted_max_score").sum(),
            seen=pl.col("activity_id").n_unique(),
        )
    )
    users = (
        members.join(totals, on="user_id", how="left")
        .with_columns(
            percent=pl.when(pl.col("max_score") != 0).then(pl.col("score") * 100 / pl.col("max_score")),
            attempted_percent=pl.when(pl.col("max_score") != 0).then(pl.col("attempted") * 100 / pl.col("max_score")),
        )
        .collect()
    )
    statistics = {
        "lowest": lambda c: pl.col(c).min(),
        "highest": lambda c: pl.col(c).max(),
        "mean": lambda c: pl.col(c).mean(),
        "median": lambda c: pl.col(c).median(),
        "stddev": lambda c: pl.col(c).std(ddof=0),
    }
    levels = []
    for level in range(depth + 1):
        aggregations = []
        for field in fields:
            head, _, column = field.partition("_")
            if field == "population":
                aggregations.append(pl.len().alias(field))
            elif field == "group_count":
                child = pl.col("group_path").list.get(level).n_unique() if level < depth else pl.lit(0)
                aggregations.append(child.alias(field))
            elif field == "mean_seen_activities":
                aggregations.append(pl.col("seen").mean().alias(field))
            elif field == "mean_attempted_percent":
                aggregations.append(pl.col("attempted_percent").mean().alias(field))
            elif head in statistics:
                aggregations.append(statistics[head](column).alias(field))
            else:  # pNN_score / pNN_percent
                aggregations.append(pl.col(column).quantile(int(head[1:]) / 100, interpolation="linear").alias(field))
        levels.append(
            users.with_columns(pl.col("group_path").list.head(level).alias("path"))
            .group_by("path")
            .agg(aggregations)
            .with_columns(pl.col("population", "group_count").cast(pl.Int64))
        )
    return pl.concat(levels)
