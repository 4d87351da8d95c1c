"""Rollups of tracking events into the tables the Analytics Data API serves, as the reference pipeline defines
them. The work is set-based in polars over a range of days; each run rewrites the rows of its days in one
transaction, so that readers see either the old figures or the new ones, and a rerun gives the same rows.
"""

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import TypeVar

import polars as pl
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django_countries import countries

from apps.common.dates import day_start, days_between
from apps.common.frames import frame_insert, queryset_copy_frame, queryset_delete, queryset_frame, staging_table
from apps.common.lookups import few_ids
from apps.common.models import JobRun
from apps.common.services import job_lock, job_run_execute, job_transaction_lock
from apps.course_analytics.eventstore import (
    ACTIVITY_FOLDER,
    ACTIVITY_SCHEMA,
    VIEWER_SCHEMA,
    VIEWERS_FOLDER,
    VIEWING_SCHEMA,
    VIEWINGS_FOLDER,
    day_file_write,
    day_files_present,
    day_files_remove,
    day_files_scan,
    events_digest,
    names_digest,
    partition_days,
)
from apps.course_analytics.models import (
    UNKNOWN_COUNTRY,
    ActivityLearnersFile,
    ActivityWeekly,
    DayFile,
    EnrollmentBirthYearDaily,
    EnrollmentDaily,
    EnrollmentEducationDaily,
    EnrollmentGenderDaily,
    EnrollmentLocationDaily,
    EnrollmentModeDaily,
    LearnerEnrollmentState,
    LearnerProfile,
    LearnerStateDay,
    VideoSummary,
    VideoViewersFile,
    VideoViewingFile,
)
from apps.course_analytics.selectors import tracking_events_scan
from apps.course_analytics.services.ingest import ENROLLMENT_EVENTS, STATE_KIND
from apps.course_analytics.versions import figures_changed_on_commit

logger = logging.getLogger(__name__)
Item = TypeVar("Item")

ROLLUP_KIND = "course_analytics.rollup"
SUMMARY_KIND = "course_analytics.video_summary"
ACTIVATED, DEACTIVATED = "edx.course.enrollment.activated", "edx.course.enrollment.deactivated"
EDUCATION_LEVELS = {
    "el": "primary", "jhs": "junior_secondary", "hs": "secondary", "a": "associates", "b": "bachelors",
    "m": "masters", "p": "doctorate", "p_se": "doctorate", "p_oth": "doctorate", "none": "none", "other": "other",
}  # fmt: skip
SEGMENT_LENGTH = 5
# A video's end segment starts this many seconds before its end (or at 95% of it, whichever is later): its credits.
CREDITS_SECONDS = 30
MIN_VIEWING_SECONDS = 0.25
MAX_VIDEO_SECONDS = 10 * 3600
LEARNER = ["course_id", "lms_user_id"]
STATE_SCHEMA = {"course_id": pl.String, "lms_user_id": pl.Int64, "since": pl.Date, "enrolled": pl.Boolean,
                "mode": pl.String}  # fmt: skip
CHANGE_SCHEMA = {**STATE_SCHEMA, "previous_enrolled": pl.Boolean, "previous_mode": pl.String}


def _coded(frame: pl.LazyFrame, *ids: str) -> pl.LazyFrame:
    """`frame` with an integer `<id>_code` beside each string id column: sorting and comparing the codes is several
    times faster than the ids themselves (or a window over them), which were most of a from-scratch run."""
    return frame.with_columns(pl.col(name).cast(pl.Categorical).to_physical().alias(f"{name}_code") for name in ids)


def _same_keys(keys: list[str], *, offset: int) -> pl.Expr:
    """True where the row `offset` rows away (1: the previous, -1: the next) has the same `keys`, false at the
    edges: in a frame sorted by `keys`, whether two rows are of one group without a window."""
    return pl.all_horizontal([pl.col(key).shift(offset) == pl.col(key) for key in keys]).fill_null(False)


LEARNER_CODED = ["course_id_code", "lms_user_id"]


def week_of(day: date) -> tuple[date, date]:
    """The ISO week (Monday, next Monday) that contains `day`."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


def week_days(monday: date) -> list[date]:
    """The seven days of the ISO week starting `monday`."""
    return days_between(monday, monday + timedelta(days=6))


# Enrollment ------------------------------------------------------------------------------------------------------


def _stale_state_days(*, last: date) -> list[date]:
    """The stored days up to `last` whose learner states are missing (never rolled up) or stale (given new
    enrollment events since). A day whose first events are still being written may be among them: its states are
    then the day before's, and the ingest that completes it marks it stale again."""
    computed = set(LearnerStateDay.objects.filter(day__lte=last).values_list("day", flat=True))
    return sorted(day for day in partition_days() if day <= last and day not in computed)


def _prior_states(
    *, before: date, course_ids: list[str] | None = None, lms_user_ids: list[int] | None = None
) -> pl.DataFrame:
    """Each learner's latest state row before `before`, of `course_ids` and of the learners `lms_user_ids` only
    when given. The rows are streamed whole and the latest picked in polars: a DISTINCT ON in PostgreSQL sorted
    them on disk, several times slower."""
    rows = LearnerEnrollmentState.objects.filter(since__lt=before)
    if course_ids is not None:
        rows = rows.filter(course_id__in=course_ids)
    if lms_user_ids is not None:
        rows = rows.filter(lms_user_id__any_of=lms_user_ids)
    return (
        _coded(queryset_copy_frame(rows, STATE_SCHEMA).lazy(), "course_id")
        .sort(*LEARNER_CODED, "since")
        .filter(~_same_keys(LEARNER_CODED, offset=-1))
        .select(list(STATE_SCHEMA))
        .collect()
    )


def _state_changes(
    *, first: date, last: date, course_ids: list[str] | None = None, changed_only: bool = False
) -> pl.DataFrame:
    """Each learner's end-of-day (`at_end`, `mode`) on each `day` of [first, last] with enrollment events of theirs,
    after one row per learner for the state carried in from before `first` (the learner-state table): of every
    learner, or when `changed_only` of those with enrollment events in [first, last] (the others' states carry on
    unchanged), whose states are then looked up by id when they are at most ID_LOOKUP_SIZE.

    The per-user state machine of the reference reduces to this: the last activation or deactivation so far decides
    the state (duplicates change nothing), and every enrollment event, mode changes included, sets the mode. The
    carried state enters as one event just before `first`; only the enrollment events of [first, last] are read.
    """
    before = day_start(first) - timedelta(microseconds=1)
    events = (
        tracking_events_scan(
            days=days_between(first, last),
            course_ids=course_ids,
            columns=[*LEARNER, "event_type", "mode", "time", "event_key"],
        )
        .filter(pl.col("event_type").is_in(ENROLLMENT_EVENTS) & pl.col("lms_user_id").is_not_null())
        .drop("day")
    )
    lms_user_ids = None
    if changed_only:
        events = events.collect().lazy()
        lms_user_ids = few_ids(ids=events.select("lms_user_id").collect()["lms_user_id"])
    prior = _prior_states(before=first, course_ids=course_ids, lms_user_ids=lms_user_ids).select(
        *LEARNER,
        event_type=pl.when(pl.col("enrolled")).then(pl.lit(ACTIVATED)).otherwise(pl.lit(DEACTIVATED)),
        mode=pl.col("mode"),
        time=pl.lit(before, dtype=pl.Datetime("us", "UTC")),
        event_key=pl.lit(""),
    )
    decided = pl.when(pl.col("event_type") == ACTIVATED).then(1).when(pl.col("event_type") == DEACTIVATED).then(0)
    learner_day = [*LEARNER_CODED, "day"]
    return (
        _coded(pl.concat([prior.lazy(), events]), "course_id")
        .sort(*LEARNER_CODED, "time", "event_key")
        # The last activation or deactivation so far, carried down each learner's rows (-1 stops the carry at a
        # learner's first row, and reads as not enrolled).
        .with_columns(
            at_end=pl.when(~_same_keys(LEARNER_CODED, offset=1))
            .then(decided.fill_null(-1))
            .otherwise(decided)
            .forward_fill()
            .replace(-1, 0),
            day=pl.col("time").dt.date(),
        )
        .filter(~_same_keys(learner_day, offset=-1))
        .select(*LEARNER, "day", "at_end", "mode")
        .collect()
    )


def _calendar(changes: pl.DataFrame, *, first: date, last: date) -> pl.DataFrame:
    """Per (course, learner, date) for every date of [first, last] from the learner's first change on: the state of
    their latest change so far, carried forward over the days that follow (an as-of join)."""
    changes = changes.sort("day")
    calendar = (
        changes.group_by(LEARNER)
        .agg(since=pl.col("day").min())
        .with_columns(date=pl.date_ranges(pl.max_horizontal("since", pl.lit(first)), pl.lit(last)))
        .explode("date")
        .drop("since")
        .drop_nulls("date")
        .sort("date")
    )
    return calendar.join_asof(
        changes.rename({"day": "date"}), on="date", by=LEARNER, strategy="backward", check_sortedness=False
    )


def enrollment_states(*, first: date, last: date, course_ids: list[str] | None = None) -> pl.DataFrame:
    """Per (course, learner, date) for every date in [first, last] from the learner's first enrollment event on:
    `at_end` (enrolled at the end of that UTC day) and `mode` (end-of-day mode), computed from the enrollment events
    of [first, last] and the learner-state table before `first`; of `course_ids` only when given."""
    return _calendar(_state_changes(first=first, last=last, course_ids=course_ids), first=first, last=last)


def learner_states_build(*, last: date) -> int:
    """Bring the learner-state table up to date through `last`: from the earliest stored day whose states are
    missing or stale, recompute every learner's end-of-day state from the states before it and the enrollment
    events from it on, and mark those days computed. Returns the number of days recomputed (0 when up to date).

    Idempotent; runs under the ("course_analytics.learner_state", "*") lock in one transaction, so that a rollup
    killed midway leaves the previous states.
    """
    if not _stale_state_days(last=last):
        return 0  # without the lock, which rollups reading the states hold shared (checked again under it)
    with job_lock(kind=STATE_KIND, key="*"), transaction.atomic():
        stale = _stale_state_days(last=last)
        if not stale:
            return 0
        start, now = min(stale), timezone.now()
        LearnerStateDay.objects.filter(day__gte=start, day__lte=last).delete()
        LearnerStateDay.objects.bulk_create(LearnerStateDay(day=day, computed=now) for day in days_between(start, last))
        if start == last:
            _day_states_write(day=last)
            return 1
        same_learner = _same_keys(LEARNER_CODED, offset=1)
        changes = (
            _coded(_state_changes(first=start, last=last, changed_only=True).lazy(), "course_id")
            .sort(*LEARNER_CODED, "day")
            .select(
                *LEARNER,
                since="day",
                enrolled=pl.col("at_end").cast(pl.Boolean),
                mode="mode",
                previous_enrolled=pl.when(same_learner).then(pl.col("at_end").cast(pl.Boolean).shift(1)),
                previous_mode=pl.when(same_learner).then(pl.col("mode").shift(1)).otherwise(pl.lit("")),
            )
            .filter(pl.col("since") >= start)
            .collect()
        )
        queryset_delete(LearnerEnrollmentState.objects.filter(since__gte=start, since__lte=last))
        frame_insert(table=LearnerEnrollmentState._meta.db_table, frame=changes)
        return (last - start).days + 1


def _day_states_write(*, day: date) -> None:
    """The learner-state rows of one `day` (a night's), in place of any: its enrollment events reduced to each
    learner's last activation or deactivation and last mode, then joined on the database's side to each learner's
    state before it (looked up through the unique index), so that no earlier state comes into the process. The
    same state machine as _state_changes: the day's last decision, else the state before it, else not enrolled."""
    event_type = pl.col("event_type")
    decided = pl.when(event_type == ACTIVATED).then(True).when(event_type == DEACTIVATED).then(False)
    ends = (
        tracking_events_scan(days=[day], columns=[*LEARNER, "event_type", "mode", "time", "event_key"])
        .filter(pl.col("event_type").is_in(ENROLLMENT_EVENTS) & pl.col("lms_user_id").is_not_null())
        .sort("time", "event_key")
        .group_by(LEARNER)
        .agg(decided=decided.drop_nulls().last(), mode=pl.col("mode").last())
        .collect()
    )
    queryset_delete(LearnerEnrollmentState.objects.filter(since=day))
    if ends.is_empty():
        return
    states = connection.ops.quote_name(LearnerEnrollmentState._meta.db_table)
    since = connection.ops.adapt_datefield_value(day)

    def latest(columns: str) -> str:
        return (
            f"SELECT {columns} FROM {states} s WHERE s.course_id = d.course_id AND s.lms_user_id = d.lms_user_id "
            "AND s.since < %s ORDER BY s.since DESC LIMIT 1"
        )

    if connection.vendor == "postgresql":
        # One lookup per learner (a lateral join; SQLite has none): 15 ms for a night's 2,400 learners, 25 ms as
        # two subqueries.
        day_ends = (
            "SELECT d.course_id, d.lms_user_id, d.decided, d.mode, b.enrolled AS previous_enrolled, b.mode AS "
            f"previous_mode FROM learner_day_staging d LEFT JOIN LATERAL ({latest('s.enrolled, s.mode')}) b ON true"
        )
        params = [since, since]
    else:
        day_ends = (
            "SELECT d.course_id, d.lms_user_id, d.decided, d.mode, "
            f"({latest('s.enrolled')}) AS previous_enrolled, ({latest('s.mode')}) AS previous_mode "
            "FROM learner_day_staging d"
        )
        params = [since, since, since]
    definition = "(course_id varchar(255), lms_user_id bigint, decided boolean, mode varchar(64))"
    with staging_table("learner_day_staging", definition, frame=ends) as cursor:
        cursor.execute(
            f"INSERT INTO {states} (course_id, lms_user_id, since, enrolled, mode, previous_enrolled, previous_mode) "
            "SELECT course_id, lms_user_id, %s, COALESCE(decided, previous_enrolled, FALSE), mode, previous_enrolled, "
            f"COALESCE(previous_mode, '') FROM ({day_ends}) AS day_ends",
            params,
        )


def _profiles(*, lms_user_ids: list[int] | None = None) -> pl.DataFrame:
    """The learners' profiles, of the learners `lms_user_ids` only when given."""
    profiles = (
        LearnerProfile.objects.all()
        if lms_user_ids is None
        else LearnerProfile.objects.filter(lms_user_id__any_of=lms_user_ids)
    )
    return queryset_copy_frame(
        profiles,
        {"lms_user_id": pl.Int64, "year_of_birth": pl.Int64, "level_of_education": pl.String, "gender": pl.String,
         "country": pl.String},
    )  # fmt: skip


def _valid_countries() -> list[str]:
    """The country codes the platform knows (the settings' overrides applied), without their names: iterating
    `countries` translates and sorts every name, tens of milliseconds in a fresh process."""
    return list(countries.countries)


def _counts(
    changes: pl.DataFrame, *keys: str, first: date, last: date, carried: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Per (course, date, *keys) for every date of [first, last]: learners enrolled (`count`) and learners counted
    at all (`cumulative_count`, those with an enrollment event so far), from the learners' changes alone.

    Each change moves a learner's contribution from their previous key to their new one; a running sum of those
    moves over the days gives the counts, so that the work grows with the changes and the keys, never with
    learners times days. `changes` holds one row per learner and change day, and the previous state of the learner
    beside each (`previous_*`; null on a learner's first). The counts start from `carried` (the table's rows of
    the day before `first`) when given; otherwise `changes` also holds every learner's state before `first`, dated
    the day before it.
    """
    group = ["course_id", *keys]
    totals = pl.col("count", "cumulative_count").cast(pl.Int64)
    arrivals = changes.select(*group, date="day", count="enrolled", cumulative_count=pl.lit(1))
    departures = changes.filter(pl.col("previous_enrolled").is_not_null()).select(
        "course_id",
        *[pl.col(f"previous_{key}" if key == "mode" else key).alias(key) for key in keys],
        date="day",
        count=-pl.col("previous_enrolled"),
        cumulative_count=pl.lit(-1),
    )
    moves = pl.concat([arrivals, departures]).group_by(*group, "date").agg(totals.sum())
    if carried is not None:
        moves = pl.concat([moves, carried.select(*group, "date", totals)], how="vertical_relaxed")
    days = pl.DataFrame({"date": pl.date_range(first - timedelta(days=1), last, eager=True)})
    grid = moves.select(group).unique().join(days, how="cross")
    return (
        grid.join(moves, on=[*group, "date"], how="left", nulls_equal=True)
        .with_columns(pl.col("count", "cumulative_count").fill_null(0))
        .sort("date")
        .with_columns(pl.col("count", "cumulative_count").cum_sum().over(group))
        .filter((pl.col("date") >= first) & (pl.col("cumulative_count") > 0))
        .select("course_id", "date", *keys, "count", "cumulative_count")
    )


ENROLLMENT_KEYS: dict[type, dict[str, type[pl.DataType]]] = {
    EnrollmentDaily: {},
    EnrollmentModeDaily: {"mode": pl.String},
    EnrollmentGenderDaily: {"gender": pl.String},
    EnrollmentBirthYearDaily: {"birth_year": pl.Int64},
    EnrollmentEducationDaily: {"education_level": pl.String},
    EnrollmentLocationDaily: {"country_code": pl.String},
}


def _counts_carry_in(*, first: date) -> bool:
    """Whether the enrollment counts of `first` can start from the tables' rows of the day before: that day is
    rolled up and neither the learner states up to it nor any profile have changed since. Then a night reads its
    own changes, and the states and profiles of the learners they concern, not every learner's.

    "Since" compares the rows' `created` with the states' `computed` and the profiles' `updated`: a rollup reads
    its inputs holding the lock of the learner states shared, and takes `created` once it holds it, while their
    writers hold it exclusive and stamp their changes under it, so that a change committed after a rollup read
    its inputs is stamped later than the rollup's rows (the hosts' clocks agreeing to within a rollup's run).
    A change to how the tables are counted (a deploy) reaches the days already rolled up only by a backfill."""
    previous = first - timedelta(days=1)
    written = EnrollmentDaily.objects.filter(date=previous).aggregate(at=Min("created"))["at"]
    if written is None:
        return False
    states_changed = LearnerStateDay.objects.filter(day__lte=previous).aggregate(at=Max("computed"))["at"]
    profiles_changed = LearnerProfile.objects.aggregate(at=Max("updated"))["at"]
    return not any(changed is not None and changed >= written for changed in (states_changed, profiles_changed))


def _carried_counts(*, first: date) -> dict[type, pl.DataFrame] | None:
    """Each enrollment table's rows of the day before `first` when the counts of `first` can start from them (see
    _counts_carry_in); None otherwise (the counts start from every learner's state)."""
    if not _counts_carry_in(first=first):
        return None
    previous = first - timedelta(days=1)
    return {
        model: queryset_frame(
            model.objects.filter(date=previous),
            {"course_id": pl.String, "date": pl.Date, **keys, "count": pl.Int64, "cumulative_count": pl.Int64},
        )
        for model, keys in ENROLLMENT_KEYS.items()
    }


def enrollment_tables(*, first: date, last: date) -> dict[type, pl.DataFrame]:
    """Every enrollment table's rows for the days [first, last], keyed by model (columns named as its fields), read
    from the learner-state table alone, never from the events: its rows of the range (each with the learner's
    state before it), and, unless the day before is carried in, every learner's state before `first`."""
    changed = queryset_copy_frame(
        LearnerEnrollmentState.objects.filter(since__gte=first, since__lte=last), CHANGE_SCHEMA
    )
    carried = _carried_counts(first=first)
    # The profiles of the range's learners only while they are few; otherwise every profile.
    learners = None if carried is None else few_ids(ids=changed["lms_user_id"])
    frames = [changed]
    if carried is None:
        # Counted from scratch as of the day before `first`: as arrivals, each learner's state then.
        prior = _prior_states(before=first).with_columns(since=pl.lit(first - timedelta(days=1)))
        frames.append(prior.with_columns(previous_enrolled=pl.lit(None, pl.Boolean), previous_mode=pl.lit("")))
    changes = (
        pl.concat(frames, how="diagonal_relaxed")
        .select(
            *LEARNER,
            day="since",
            enrolled=pl.col("enrolled").cast(pl.Int64),
            mode="mode",
            previous_enrolled=pl.col("previous_enrolled").cast(pl.Int64),
            previous_mode="previous_mode",
        )
        .join(_profiles(lms_user_ids=learners), on="lms_user_id", how="left")
        .with_columns(
            gender=pl.when(pl.col("gender").is_in(["", None])).then(None).otherwise(pl.col("gender")),
            education_level=pl.col("level_of_education").replace_strict(EDUCATION_LEVELS, default=None),
            birth_year=pl.col("year_of_birth"),
            country_code=pl.when(pl.col("country").is_in(_valid_countries()))
            .then(pl.col("country"))
            .otherwise(pl.lit(UNKNOWN_COUNTRY)),
        )
    )
    return {
        model: _counts(changes, *keys, first=first, last=last, carried=carried[model] if carried else None)
        for model, keys in ENROLLMENT_KEYS.items()
    }


def _day_changes_sql() -> tuple[str, list]:
    """A query of the learner-state rows of one day (its last parameter) with their learners' keys as the enrollment
    tables count them (see enrollment_tables), and its parameters but the day."""
    quote = connection.ops.quote_name
    levels = list(EDUCATION_LEVELS.items())
    countries_known = _valid_countries()
    education = " ".join("WHEN %s THEN %s" for _ in levels)
    profiles, joined = quote(LearnerProfile._meta.db_table), "p.lms_user_id = s.lms_user_id"
    if connection.vendor == "postgresql":
        # Each learner's profile looked up through its index: joined as a table, the planner reads every profile
        # for a hash join (13 ms at 117,000 profiles, growing with them, where the day's 2,400 lookups take 2 ms).
        profiles = f"LATERAL (SELECT * FROM {profiles} p WHERE p.lms_user_id = s.lms_user_id LIMIT 1)"
        joined = "true"
    known = ", ".join(["%s"] * len(countries_known))
    sql = (
        "SELECT s.course_id, s.enrolled, s.mode, s.previous_enrolled, s.previous_mode, "
        "NULLIF(p.gender, '') AS gender, p.year_of_birth AS birth_year, "
        f"CASE p.level_of_education {education} END AS education_level, "
        f"CASE WHEN p.country IN ({known}) THEN p.country ELSE %s END AS country_code "
        f"FROM {quote(LearnerEnrollmentState._meta.db_table)} s LEFT JOIN {profiles} p ON {joined} "
        "WHERE s.since = %s"
    )
    return sql, [*(value for pair in levels for value in pair), *countries_known, UNKNOWN_COUNTRY]


def _enrollment_day_carried(*, day: date, now: datetime) -> int:
    """Write every enrollment table's rows of `day`, whose day before is carried in (see _counts_carry_in), on the
    database's side: the day's state rows with their learners' keys are gathered once (a temporary table), then
    one INSERT ... SELECT per table moves the day before's rows on by them, each moving its learner from their
    previous key to their new one (as _counts does over a range). Nothing is read into the process. Returns the
    number of rows written."""
    quote = connection.ops.quote_name
    changes, change_params = _day_changes_sql()
    day_value = connection.ops.adapt_datefield_value(day)
    previous_value = connection.ops.adapt_datefield_value(day - timedelta(days=1))
    created = connection.ops.adapt_datetimefield_value(now)
    written = 0
    with staging_table("enrollment_day_changes", f"AS {changes}", params=[*change_params, day_value]) as cursor:
        for model, keys in ENROLLMENT_KEYS.items():
            queryset_delete(model.objects.filter(date=day))
            key = "".join(f", {quote(name)}" for name in keys)
            departed = "".join(", previous_mode" if name == "mode" else f", {quote(name)}" for name in keys)
            table = quote(model._meta.db_table)
            cursor.execute(
                f"INSERT INTO {table} (course_id, date{key}, count, cumulative_count, created) "
                f"SELECT course_id, %s{key}, SUM(count), SUM(cumulative_count), %s FROM ("
                f"SELECT course_id{key}, count, cumulative_count FROM {table} WHERE date = %s "
                f"UNION ALL SELECT course_id{key}, CASE WHEN enrolled THEN 1 ELSE 0 END, 1 FROM enrollment_day_changes "
                f"UNION ALL SELECT course_id{departed}, CASE WHEN previous_enrolled THEN -1 ELSE 0 END, -1 "
                "FROM enrollment_day_changes WHERE previous_enrolled IS NOT NULL"
                f") moves GROUP BY course_id{key} HAVING SUM(cumulative_count) > 0",
                [day_value, created, previous_value],
            )
            written += cursor.rowcount
    figures_changed_on_commit()
    return written


def _enrollment_tables_replace(*, first: date, last: date, now: datetime) -> int:
    """Rewrite every enrollment table's rows of [first, last]: a night carried in from the day before on the
    database's side, anything else in polars (enrollment_tables). Returns the number of rows written."""
    if first == last and _counts_carry_in(first=first):
        return _enrollment_day_carried(day=first, now=now)
    return sum(
        _replace(model, {"date__gte": first, "date__lte": last}, frame.with_columns(_created(now)))
        for model, frame in enrollment_tables(first=first, last=last).items()
    )


# Weekly activity -------------------------------------------------------------------------------------------------


def _activity_learners(days: list[date]) -> pl.DataFrame:
    """The learners active in a course on each of `days`, one row per `day`, course and learner, with whether they
    also attempted a problem, played a video or posted to a forum that day (ACTIVITY_SCHEMA).

    Active ("any" activity) is any event of a learner in the course but enrollment events and events the platform
    itself emitted (`event_source` task); the other types are as the reference labels them.
    """
    events = tracking_events_scan(days=days, columns=[*LEARNER, "event_type", "event_source"]).filter(
        pl.col("lms_user_id").is_not_null()
        & (pl.col("event_source") != "task")
        & ~pl.col("event_type").str.starts_with("edx.course.enrollment.")
    )
    server, event_type = pl.col("event_source") == "server", pl.col("event_type")
    return (
        events.group_by("day", *LEARNER)
        .agg(
            attempted_problem=(server & (event_type == "problem_check")).any(),
            played_video=(pl.col("event_source").is_in(["browser", "mobile"]) & (event_type == "play_video")).any(),
            posted_forum=(server & event_type.str.contains(r"^edx\.forum\..+\.created$")).any(),
        )
        .collect()
    )


ActiveDays = dict[date, tuple[pl.DataFrame, str]]  # day: (its active learners, the digest of the events they are of)
RecordedFiles = dict[date, tuple[str, str]]  # day: (name of its ActivityLearnersFile, the digest of its events)


def _activity_files_recorded(*, days: list[date]) -> RecordedFiles:
    """The active-learner files recorded for `days`, with the digests of the events they were computed from."""
    return {
        day: (name, digest)
        for day, name, digest in ActivityLearnersFile.objects.filter(day__in=days).values_list("day", "name", "events")
    }


def _activity_by_week(
    *, days: list[date], weeks: list[date], recorded: RecordedFiles
) -> Iterator[tuple[list[tuple[date, pl.DataFrame, dict]], date, pl.DataFrame | None]]:
    """The days of `days` an ISO week at a time (a week's events bound the memory): each day with events, its
    active learners and the fields of its ActivityLearnersFile; then the week's Monday and, when it is one of
    `weeks`, its activity table (see activity_table), from those learners and, for its days outside `days`, the
    files `recorded`. The digest of the day's event files is taken before they are read, so that events added
    meanwhile make it stale rather than lost. Touches no database: it runs in the rollup's thread."""
    for monday, chunk in groupby(days, key=lambda day: week_of(day)[0]):
        digests = events_digest(days=list(chunk))
        learners = _activity_learners(sorted(digests)).partition_by("day", as_dict=True, include_key=False)
        computed = {
            day: (learners.get((day,), pl.DataFrame(schema=ACTIVITY_SCHEMA)), digest) for day, digest in digests.items()
        }
        items = [
            (day, frame, {"learners": frame.height, "events": digest})
            for day, (frame, digest) in sorted(computed.items())
        ]
        table = activity_table(week=monday, computed=computed, recorded=recorded) if monday in weeks else None
        yield items, monday, table


def activity_table(
    *, week: date, computed: ActiveDays | None = None, recorded: RecordedFiles | None = None
) -> pl.DataFrame:
    """Distinct learners per course and activity type in the ISO week starting `week` (a Monday), named by
    `interval_start`/`interval_end`. Each day's learners are those `computed` (with the digest of the events they
    were computed from), else its active-learner file (of the files `recorded`, else of those recorded now),
    whichever is of the day's events as they are now; a day with neither is computed afresh from its events."""
    days = week_days(week)
    digests = events_digest(days=days)
    fresh = {day: frame for day, (frame, digest) in (computed or {}).items() if digests.get(day) == digest}
    files = _activity_files_recorded(days=days) if recorded is None else recorded
    current = {day: name for day, (name, digest) in files.items() if day not in fresh and digests.get(day) == digest}
    afresh = [day for day in digests if day not in fresh and day not in current]
    learners = _day_files_in_force(
        folder=ACTIVITY_FOLDER,
        files=current,
        schema=ACTIVITY_SCHEMA,
        compute=lambda missing: _activity_learners(missing).drop("day"),
        days=list(current),
    )
    frames = [frame.lazy() for frame in fresh.values()]
    if afresh:
        frames.append(_activity_learners(afresh).drop("day").lazy())
    learners = pl.concat([learners, *frames])
    flags = [name for name in ACTIVITY_SCHEMA if name not in LEARNER]
    start = day_start(week)
    return (
        # The course as a categorical, so that the learners are grouped on integers.
        learners.with_columns(pl.col("course_id").cast(pl.Categorical))
        .group_by(LEARNER)
        .agg(pl.col(flags).any())
        .group_by("course_id")
        .agg(pl.len().alias("any"), pl.col(flags).sum())
        .unpivot(index="course_id", variable_name="activity_type", value_name="count")
        .filter(pl.col("count") > 0)
        .select(
            pl.col("course_id").cast(pl.String),
            "activity_type",
            "count",
            interval_start=pl.lit(start, dtype=pl.Datetime("us", "UTC")),
            interval_end=pl.lit(start + timedelta(days=7), dtype=pl.Datetime("us", "UTC")),
        )
        .collect()
    )


# Videos ----------------------------------------------------------------------------------------------------------


VIEWING_CHUNK_DAYS = 7  # days of video events in memory at once: a fraction of a range's, enough to be set-based


def _video_viewings(days: list[date]) -> pl.DataFrame:
    """The viewings of `days`, with their `day`: a viewing runs from a play to the learner's next event on that
    video the same day (pause, seek, stop or play); viewings under MIN_VIEWING_SECONDS, or ending past
    MAX_VIDEO_SECONDS, are dropped. Each carries its learner-day's longest reported duration and furthest position.

    A viewer-day's events are made adjacent by one sort (on codes of the ids), so that each play's end is the next
    row's position when that row is the same viewer's.
    """
    columns = [*LEARNER, "video_id", "event_type", "time", "event_key", "video_position", "video_duration"]
    viewer_day = ["day", "course_id_code", "video_id_code", "lms_user_id"]
    events = _coded(
        tracking_events_scan(days=days, columns=columns).filter(
            (pl.col("video_id") != "") & pl.col("lms_user_id").is_not_null()
        ),
        "course_id",
        "video_id",
    ).sort(*viewer_day, "time", "event_key")
    return (
        events.with_columns(
            end_position=pl.when(_same_keys(viewer_day, offset=-1)).then(pl.col("video_position").shift(-1)),
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
        .select("day", *VIEWING_SCHEMA)
        .collect()
    )


def _video_viewings_by_day(days: list[date]) -> Iterator[tuple[date, pl.DataFrame, dict]]:
    """Each day of `days` that has viewings, with them (VIEWING_SCHEMA columns) and the fields of its
    VideoViewingFile, VIEWING_CHUNK_DAYS at a time: a viewing never spans two days, and a chunk's video events bound
    the memory."""
    for chunk in range(0, len(days), VIEWING_CHUNK_DAYS):
        viewings = _video_viewings(days[chunk : chunk + VIEWING_CHUNK_DAYS])
        for (day,), frame in viewings.partition_by("day", as_dict=True, include_key=False).items():
            yield day, frame, {"viewings": frame.height}


def _day_files_replace(
    model: type[DayFile], folder: str, frames: Iterable[tuple[date, pl.DataFrame, dict]], *, first: date, last: date,
    now: datetime, readers_lock: str | None = None,
) -> int:  # fmt: skip
    """Write each day's frame of `frames` (day, frame, the row's other fields) as that day's file of `folder` and
    name the new files in `model` in place of those of [first, last], in the caller's transaction: the files it
    replaces stay in force until it commits, and are removed then (after taking `readers_lock`, which readers of
    files of other days than the caller's hold while they list and read them). Returns the number of rows."""
    in_force = dict(model.objects.filter(day__gte=first, day__lte=last).values_list("day", "name"))
    files, rows = [], 0
    for day, frame, fields in frames:
        name = day_file_write(folder=folder, day=day, frame=frame, keep=in_force.get(day))
        files.append(model(day=day, name=name, created=now, **fields))
        rows += frame.height
    queryset_delete(model.objects.filter(day__gte=first, day__lte=last))
    model.objects.bulk_create(files)
    if in_force:
        if readers_lock:
            job_transaction_lock(kind=readers_lock, key="*")
        transaction.on_commit(lambda: day_files_remove(folder=folder, names=list(in_force.values())), robust=True)
    return rows


def _day_files_in_force(
    *, folder: str, files: dict[date, str], schema: dict[str, pl.DataType],
    compute: Callable[[list[date]], pl.DataFrame], days: list[date] | None = None,
) -> pl.LazyFrame:  # fmt: skip
    """The named day files of `folder` (day: name; the store listed for `days` only when given); for a day whose
    file is gone from the store (a store restored apart from the database, say) its data computed afresh from its
    events by `compute`, with a warning (the next rollup of that day writes the file again)."""
    present = day_files_present(folder=folder, days=days)
    missing = sorted(day for day, name in files.items() if name not in present)
    if missing:
        logger.warning(
            "%s files missing from the event store, computed from the events: %s",
            folder,
            ", ".join(day.isoformat() for day in missing),
        )
    return pl.concat(
        [
            day_files_scan(folder=folder, names=[name for name in files.values() if name in present], schema=schema),
            *([compute(missing).lazy()] if missing else []),
        ]
    )


def _video_viewings_of(days: list[date]) -> pl.DataFrame:
    return pl.concat([pl.DataFrame(schema=VIEWING_SCHEMA), *(frame for _, frame, _ in _video_viewings_by_day(days))])


VIDEO = ["course_id", "video_id"]
VIEWER = [*VIDEO, "segment", "lms_user_id"]
# A night adds a file of its new viewers; with this many files in force, it writes them and its own as one instead.
VIEWERS_FILES_MAX = 32
SUMMARY_SCHEMA = {"course_id": pl.String, "encoded_module_id": pl.String, "reported_duration": pl.Float64,
                  "furthest": pl.Float64, "users_at_start": pl.Int64, "users_at_end": pl.Int64}  # fmt: skip


def _video_maxima(viewings: pl.LazyFrame) -> pl.LazyFrame:
    """Per video of `viewings`: the longest duration a player reported and the furthest position viewed."""
    return viewings.group_by(VIDEO).agg(pl.col("reported_duration").max(), pl.col("furthest").max())


def _video_ends(maxima: pl.LazyFrame) -> pl.LazyFrame:
    """Each video of `maxima` that has a duration (the longest reported, else the furthest position), with it and
    with `end_start`: the start of the segment holding max(duration - 30, 0.95 duration), so that credits do not
    count."""
    return (
        maxima.with_columns(duration=pl.coalesce("reported_duration", "furthest"))
        .filter(pl.col("duration").is_not_null())
        .with_columns(
            end_start=(
                pl.max_horizontal(pl.col("duration") - CREDITS_SECONDS, pl.col("duration") * 0.95) / SEGMENT_LENGTH
            ).floor()
            * SEGMENT_LENGTH
        )
    )


def _segment_viewers(viewings: pl.LazyFrame, ends: pl.LazyFrame) -> pl.LazyFrame:
    """The distinct viewers (VIEWER_SCHEMA) of `viewings`: of a video's first segment, and of its end segment as
    `ends` places it."""
    start, end, end_start = pl.col("start_position"), pl.col("end_position"), pl.col("end_start")
    at_start = viewings.filter(start < SEGMENT_LENGTH).select(
        *VIDEO, segment=pl.lit("start"), lms_user_id="lms_user_id"
    )
    at_end = (
        viewings.join(ends.select(*VIDEO, "end_start"), on=VIDEO)
        .filter((start < end_start + SEGMENT_LENGTH) & (end > end_start))
        .select(*VIDEO, segment=pl.lit("end"), lms_user_id="lms_user_id")
    )
    return pl.concat([at_start, at_end]).unique()


def _viewer_counts(viewers: pl.LazyFrame) -> pl.LazyFrame:
    segment = pl.col("segment")
    return viewers.group_by(VIDEO).agg(
        users_at_start=(segment == "start").sum().cast(pl.Int64), users_at_end=(segment == "end").sum().cast(pl.Int64)
    )


def _summary_rows(ends: pl.LazyFrame, counts: pl.LazyFrame) -> pl.DataFrame:
    """The VideoSummary rows of the videos of `ends` (their maxima and end segments) with their `counts`."""
    return (
        ends.join(counts, on=VIDEO, how="left")
        .select(
            pipeline_video_id=pl.concat_str(pl.col(VIDEO).cast(pl.String), separator="|"),
            course_id=pl.col("course_id").cast(pl.String),
            encoded_module_id=pl.col("video_id").cast(pl.String),
            duration=pl.col("duration").round(0, mode="half_to_even").cast(pl.Int64),
            segment_length=pl.lit(SEGMENT_LENGTH, dtype=pl.Int64),
            users_at_start=pl.col("users_at_start").fill_null(0),
            users_at_end=pl.col("users_at_end").fill_null(0),
            reported_duration="reported_duration",
            furthest="furthest",
        )
        .collect()
    )


def video_summaries_from_scratch(viewings: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The VideoSummary rows over `viewings` (every viewing so far), and their distinct viewers (VIEWER_SCHEMA).
    Streamed in polars, with the ids as categoricals, so that the work groups on integer codes."""
    viewings = viewings.with_columns(pl.col(VIDEO).cast(pl.Categorical))
    ends = _video_ends(_video_maxima(viewings)).collect(engine="streaming").lazy()
    viewers = (
        _segment_viewers(viewings, ends)
        .with_columns(pl.col(VIDEO).cast(pl.String))
        .select(list(VIEWER_SCHEMA))
        .collect(engine="streaming")
    )
    return _summary_rows(ends.with_columns(pl.col(VIDEO).cast(pl.String)), _viewer_counts(viewers.lazy())), viewers


def video_summaries_moved_on(
    *, previous: pl.DataFrame, viewings: pl.LazyFrame, earlier: pl.LazyFrame
) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The VideoSummary rows `previous` (SUMMARY_SCHEMA, the video as `video_id`) moved on by new `viewings`,
    whose earlier viewers are `earlier`; and the viewers of `viewings` that `earlier` lacks. None when the new
    viewings move the end segment of a video viewed before: its earlier viewers of the end segment are then not
    the ones to count."""
    maxima = (
        pl.concat([previous.lazy().select(*VIDEO, "reported_duration", "furthest"), _video_maxima(viewings)])
        .group_by(VIDEO)
        .agg(pl.col("reported_duration").max(), pl.col("furthest").max())
    )
    ends = _video_ends(maxima).collect()
    moved = ends.join(_video_ends(previous.lazy()).collect(), on=VIDEO, suffix="_before").filter(
        pl.col("end_start") != pl.col("end_start_before")
    )
    if not moved.is_empty():
        return None
    # Only the earlier rows of the new viewings' learners, with the ids as categoricals, so that the join looks up
    # a fraction of them, on integer codes.
    ids = pl.col(*VIDEO, "segment").cast(pl.Categorical)
    candidates = _segment_viewers(viewings, ends.lazy()).collect()
    learners = candidates["lms_user_id"].unique().implode()
    new = (
        candidates.lazy()
        .with_columns(ids)
        .join(earlier.filter(pl.col("lms_user_id").is_in(learners)).with_columns(ids), on=VIEWER, how="anti")
        .with_columns(pl.col(*VIDEO, "segment").cast(pl.String))
        .collect()
    )
    counts = (
        pl.concat([previous.lazy().select(*VIDEO, "users_at_start", "users_at_end"), _viewer_counts(new.lazy())])
        .group_by(VIDEO)
        .agg(pl.col("users_at_start", "users_at_end").sum())
    )
    return _summary_rows(ends.lazy(), counts), new.select(list(VIEWER_SCHEMA))


def _viewers_current(in_force: list[VideoViewersFile], viewing_files: dict[date, str], *, first: date) -> bool:
    """Whether the viewer files `in_force` hold the viewers of every viewing file before `first` as it is now (no
    day from `first` on counted, none of their days rerun since, none of their files gone), so that a rollup of
    days from `first` on can add its own."""
    if not in_force or any(file.last >= first for file in in_force):
        return False
    earlier = {day for day in viewing_files if day < first}
    for file in in_force:
        days = {day for day in earlier if file.first <= day <= file.last}
        if file.viewings != names_digest(viewing_files[day] for day in days):
            return False
        earlier -= days
    if earlier:
        return False
    present = day_files_present(folder=VIEWERS_FOLDER, days=[file.first for file in in_force])
    missing = [file.name for file in in_force if file.name not in present]
    if missing:
        logger.warning("video viewer files missing from the event store, counted from every viewing: %s", missing)
    return not missing


def _viewers_file_replace(
    *, in_force: list[VideoViewersFile], whole: bool, viewers: pl.DataFrame, days: dict[date, str], now: datetime
) -> None:
    """Write `viewers` as the viewer file of the viewing files `days` (day: name), in the caller's transaction:
    beside the files `in_force`, or when `whole` in place of them (they stay in force until it commits and are
    removed then, with the folder's other files, of rollups that failed: a range's folder is not always written
    again)."""
    replaced = in_force if whole else []
    if whole:
        stray = day_files_present(folder=VIEWERS_FOLDER) - {file.name for file in in_force}
        day_files_remove(folder=VIEWERS_FOLDER, names=stray)
    queryset_delete(VideoViewersFile.objects.filter(first__in=[file.first for file in replaced]))
    if days:
        first = min(days)
        keep = next((file.name for file in replaced if file.first == first), None)
        VideoViewersFile.objects.create(
            first=first, last=max(days), viewers=viewers.height, viewings=names_digest(days.values()), created=now,
            name=day_file_write(folder=VIEWERS_FOLDER, day=first, frame=viewers, keep=keep),
        )  # fmt: skip
    if replaced:
        names = [file.name for file in replaced]
        transaction.on_commit(lambda: day_files_remove(folder=VIEWERS_FOLDER, names=names), robust=True)


def _video_summaries_replace(*, first: date, now: datetime) -> int:
    """Write the video summaries over every viewing so far (the viewing files in force, those from `first` on just
    written) and the viewer files they count. When the viewer files are current for the days before `first` (a
    night), the summaries in force move on by the viewings from `first` on alone, and their new viewers go to a
    file of their own (or, with VIEWERS_FILES_MAX files in force, into one with theirs); otherwise every viewing
    is counted afresh. Returns the number of summary rows.

    The caller holds SUMMARY_KIND, which every writer and reader of the viewer files holds too."""
    viewing_files = dict(VideoViewingFile.objects.values_list("day", "name"))
    in_force = list(VideoViewersFile.objects.order_by("first"))
    new_files = {day: name for day, name in viewing_files.items() if day >= first}
    earlier = day_files_scan(folder=VIEWERS_FOLDER, names=[file.name for file in in_force], schema=VIEWER_SCHEMA)

    def viewings_of(files: dict[date, str], *, days: list[date] | None) -> pl.LazyFrame:
        return _day_files_in_force(
            folder=VIEWINGS_FOLDER, files=files, schema=VIEWING_SCHEMA, compute=_video_viewings_of, days=days
        )

    moved_on = None
    if _viewers_current(in_force, viewing_files, first=first):
        previous = queryset_frame(VideoSummary.objects.all(), SUMMARY_SCHEMA).rename({"encoded_module_id": "video_id"})
        moved_on = video_summaries_moved_on(
            previous=previous, viewings=viewings_of(new_files, days=list(new_files)), earlier=earlier
        )
    if moved_on is not None and len(in_force) < VIEWERS_FILES_MAX:
        (summaries, viewers), whole, days = moved_on, False, new_files
    elif moved_on is not None:
        summaries, new = moved_on
        viewers, whole, days = pl.concat([earlier.collect(), new]), True, viewing_files
    else:
        summaries, viewers = video_summaries_from_scratch(viewings_of(viewing_files, days=None))
        whole, days = True, viewing_files
    _viewers_file_replace(in_force=in_force, whole=whole, viewers=viewers, days=days, now=now)
    columns = [field.column for field in VideoSummary._meta.concrete_fields if field.column != "id"]
    return _replace(VideoSummary, {}, summaries.with_columns(_created(now)).select(columns))


# Writing ---------------------------------------------------------------------------------------------------------


def _created(now: datetime) -> pl.Expr:
    return pl.lit(now, dtype=pl.Datetime("us", "UTC")).alias("created")


def _replace(model: type, scope: dict, frame: pl.DataFrame) -> int:
    """Delete the rows of `scope` and write `frame` in their place in one bulk statement (COPY on PostgreSQL); the
    v0 API's cached answers are stale once this commits."""
    queryset_delete(model.objects.filter(**scope))
    figures_changed_on_commit()
    return frame_insert(table=model._meta.db_table, frame=frame)


def _complete_weeks(first: date, last: date, today: date) -> list[date]:
    """The Mondays of the ISO weeks that hold a day of [first, last] and are over by `today`."""
    monday, _ = week_of(first)
    weeks = []
    while monday <= last and monday + timedelta(days=7) <= today:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def _ahead(items: Iterator[Item], executor: Executor) -> Iterator[Item]:
    """The items of `items`, each produced in `executor` while the caller works on the one before; the first is
    started at once, so that it is produced while the caller does whatever comes before it. At most one item is
    asked for ahead (a generator may hold more to produce it: the day files' hold one chunk of days)."""
    end = object()
    pending = executor.submit(next, items, end)

    def produced() -> Iterator[Item]:
        nonlocal pending
        while (item := pending.result()) is not end:
            pending = executor.submit(next, items, end)
            yield item

    return produced()


def course_analytics_rollup_range(*, first: date, last: date, summaries: bool = True) -> JobRun:
    """Recompute every rollup that the days [first, last] feed. First the learner states are brought up to `last`
    (a no-op when they are: see learner_states_build); then, in one transaction, the enrollment tables of each day
    (from the learner-state table alone), the active learners and the video viewings of those days (their
    partitions only, into day files), the ISO weeks holding those days that are over (the current partial week
    never is; each from its days' active learners), and the video summaries over all viewings rolled up so far
    (unless `summaries` is false: a backfill's earlier ranges leave them to its last). Every table is written in
    bulk, COPY on PostgreSQL. The day files' data and the weeks' counts come from the event files and the day files
    alone: a thread computes them while this one builds the learner states and the enrollment tables; they are
    written here, in the transaction.

    Idempotent: recorded as ("course_analytics.rollup", first[..last]); a rerun rewrites the same rows and a failure
    changes nothing. Ranges that share an ISO week queue behind one another; disjoint ranges run side by side.
    """

    def work() -> int:
        # The learner states and the profiles stay as read until this commits; their writers stamp their changes
        # after it (see _counts_carry_in).
        job_transaction_lock(kind=STATE_KIND, key="*", shared=True)
        now = timezone.now()
        written = _enrollment_tables_replace(first=first, last=last, now=now)
        tables: dict[date, pl.DataFrame] = {}

        def active_days() -> Iterator[tuple[date, pl.DataFrame, dict]]:
            for items, monday, table in activity:
                yield from items
                if table is not None:
                    tables[monday] = table

        written += _day_files_replace(
            ActivityLearnersFile, ACTIVITY_FOLDER, active_days(), first=first, last=last, now=now
        )
        for monday, table in sorted(tables.items()):
            written += _replace(
                ActivityWeekly, {"interval_start": day_start(monday)}, table.with_columns(_created(now))
            )
        # The summaries read every day's viewing file: they list them holding SUMMARY_KIND.
        written += _day_files_replace(
            VideoViewingFile, VIEWINGS_FOLDER, viewings, first=first, last=last, now=now,
            readers_lock=SUMMARY_KIND,
        )  # fmt: skip
        if summaries:
            # Ranges rolled up in parallel each end here one after another, each seeing the viewings of the others
            # that ended before it, so that the last to end sees them all.
            job_transaction_lock(kind=SUMMARY_KIND, key="*")
            written += _video_summaries_replace(first=first, now=now)
        return written

    key = first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"
    with ExitStack() as stack:
        # Ranges that share an ISO week (its days or its weekly rows) queue behind one another; the others run
        # side by side.
        monday, _ = week_of(first)
        while monday <= last:
            stack.enter_context(job_lock(kind=ROLLUP_KIND, key=f"week:{monday.isoformat()}"))
            monday += timedelta(days=7)
        # The day files' data are read under those locks too, so that a rollup of the same days reads its events
        # after this one has committed, never before (the viewings record no digest of the events they read). The
        # thread touches no database. On a failure, what it has not started is dropped.
        days = days_between(first, last)
        # The weeks that are over, each counted in the thread from its days' learners as they are computed and the
        # files of its days outside the range, listed here under the same locks. (SQLite's job locks are no-ops: a
        # rollup of the same week that commits meanwhile can only take a listed file away, whose day is then
        # counted from its events, or this rollup fails and its rerun completes it.)
        weeks = _complete_weeks(first, last, timezone.now().date())
        recorded = _activity_files_recorded(days=[day for monday in weeks for day in week_days(monday)])
        files = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rollup-day-files")
        stack.callback(files.shutdown, cancel_futures=True)
        activity = _ahead(_activity_by_week(days=days, weeks=weeks, recorded=recorded), files)
        viewings = _ahead(_video_viewings_by_day(days), files)
        learner_states_build(last=last)
        return job_run_execute(kind=ROLLUP_KIND, key=key, work=work)


BACKFILL_WEEKS = 4  # weeks rolled up in one pass: long enough to be set-based, short enough to bound memory


def backfill_ranges(*, first: date, last: date) -> list[tuple[date, date]]:
    """[first, last] cut into ranges of at most BACKFILL_WEEKS ISO weeks, oldest first (the first and last ranges
    may start or end mid-week)."""
    ranges = []
    start = first
    while start <= last:
        monday, _ = week_of(start)
        end = min(monday + timedelta(days=7 * BACKFILL_WEEKS - 1), last)
        ranges.append((start, end))
        start = end + timedelta(days=1)
    return ranges


def course_analytics_backfill(*, first: date, last: date, progress: Callable[[int], None] | None = None) -> int:
    """Roll up [first, last] in this process: the learner states once, then each backfill range oldest first (each
    its own idempotent run). Returns the number of days; `progress` is told how many days each range covered."""
    learner_states_build(last=last)
    for range_first, range_last in backfill_ranges(first=first, last=last):
        course_analytics_rollup_range(first=range_first, last=range_last, summaries=range_last == last)
        if progress:
            progress((range_last - range_first).days + 1)
    return (last - first).days + 1


def course_analytics_backfill_enqueue(*, first: date, last: date, enqueue: Callable[[date, date], None]) -> int:
    """Fan a backfill out: bring the learner states up to `last` here (they carry from day to day, so they are
    built in order, and cheaply: enrollment events only), then hand each backfill range to `enqueue` (a Celery
    task per range), so that the ranges run on as many workers as there are. Returns the number of ranges."""
    learner_states_build(last=last)
    ranges = backfill_ranges(first=first, last=last)
    for range_first, range_last in ranges:
        enqueue(range_first, range_last)
    return len(ranges)


def course_analytics_rollup(*, day: date) -> JobRun:
    """The nightly rollup of one UTC day (see course_analytics_rollup_range). Idempotent on the day."""
    return course_analytics_rollup_range(first=day, last=day)


def yesterday() -> date:
    return timezone.now().date() - timedelta(days=1)
