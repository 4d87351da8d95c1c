"""The measures of `make bench`. Each prepares its data (untimed), times Tally and its baseline on the same data,
checks that both computed the same results, and returns a Result."""

import csv
import io
import json
import signal
import statistics
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from functools import partial
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

import fsspec
import polars as pl
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction

from apps.activity_agg.models import ActivityAggregate
from apps.bench import baselines
from apps.bench.runner import Result, Timer, compared, run_isolated
from apps.bench.scales import COURSES, SESSIONS_PER_USER, START, Scale
from apps.bench.serving import Call, load, repeat, serve, shared_cache
from apps.common.frames import frame_insert, queryset_frame
from apps.common.models import JobRun
from apps.common.ports import free_port
from apps.common.services import api_key_create, user_ensure
from apps.course_analytics.demo import profile_csv_lines, tracking_log_lines
from apps.course_analytics.eventstore import (
    ACTIVITY_FOLDER,
    EVENT_SCHEMA,
    VIEWERS_FOLDER,
    VIEWINGS_FOLDER,
    partition_files,
)
from apps.course_analytics.models import (
    ActivityLearnersFile,
    ActivityWeekly,
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
from apps.course_analytics.selectors import tracking_events_count, tracking_events_days
from apps.course_analytics.services.ingest import events_frame, learner_profiles_ingest, tracking_files_ingest
from apps.course_analytics.services.rollups import course_analytics_backfill, course_analytics_rollup
from apps.datasets.models import Consumer, DatasetInputFile, DatasetJob, DatasetOutputFile, Session
from apps.datasets.selectors import output_document_read
from apps.datasets.services import (
    consumer_create,
    dataset_build,
    dataset_create,
    sessions_ingest,
    sessions_snapshot_refresh,
)
from apps.datasets.spec import DEFAULT_FIELDS as DATASET_FIELDS
from apps.datasets.spec import dataset_spec_parse
from apps.datasets.storage import file_write_complete
from apps.groups.models import Group, Membership
from apps.stats.query import group_count_query_parse
from apps.stats.selectors import group_count

BENCH_DIR = Path(settings.VAR_DIR) / "bench"
ROLLUP_TABLES = (EnrollmentDaily, EnrollmentModeDaily, EnrollmentGenderDaily, EnrollmentBirthYearDaily,
                 EnrollmentEducationDaily, EnrollmentLocationDaily, ActivityWeekly)  # fmt: skip
# The same rows in a bare PostgreSQL table, for the COPY baseline of ingest.
COPY_COLUMNS = {"day": "date", "event_key": "text", "time": "timestamptz", "course_id": "text", "lms_user_id": "bigint",
                "username": "text", "event_type": "text", "event_source": "text", "mode": "text", "video_id": "text",
                "video_position": "float8", "video_new_position": "float8", "video_duration": "float8",
                "block_id": "text", "success": "text", "grade": "float8", "max_grade": "float8",
                "completion": "float8"}  # fmt: skip


def _log_file(scale: Scale) -> Path:
    """The generated tracking log of this scale, written once and reused by later runs."""
    path = BENCH_DIR / f"tracking-{scale.name}-{scale.learners}-{scale.days}.log"
    if not path.exists():
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with partial.open("w") as out:
            for line in tracking_log_lines(course_ids=COURSES, learners=scale.learners, start=START, days=scale.days):
                out.write(line + "\n")
        partial.rename(path)
    return path


def _store_files() -> list[str]:
    """Every file of the event store: the baselines scan the very partitions Tally's rollups read."""
    return [path for files in partition_files().values() for path in files]


def _store_clear() -> None:
    filesystem, root = fsspec.core.url_to_fs(str(settings.TRACKING_EVENT_STORE))
    if filesystem.exists(root):
        filesystem.rm(root, recursive=True)


def _log_batches(path: Path, size: int = 200_000):
    with path.open() as lines:
        batch = []
        for line in lines:
            batch.append(line.strip())
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch


def _copy_rate(log: Path) -> tuple[int, float]:
    """COPY (PostgreSQL; executemany on SQLite) of the rows Tally's parser makes of the log, into a table of the
    same columns without indexes; only the COPY itself is timed."""
    columns = ", ".join(f"{name} {kind}" for name, kind in COPY_COLUMNS.items())
    copied, seconds = 0, 0.0
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(f"CREATE TABLE bench_copy ({columns})")
    for batch in _log_batches(log):
        rows = events_frame(batch).filter(pl.col("problem").is_null()).select(list(COPY_COLUMNS))
        with Timer() as timer:
            copied += frame_insert(table="bench_copy", frame=rows)
        seconds += timer.seconds
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
    return copied, seconds


def ingest(scale: Scale) -> Result:
    """Tally's ingest of the log file into the event store against COPY of the same rows into a bare table."""
    log = _log_file(scale)
    _store_clear()
    with Timer() as tally:
        report = tracking_files_ingest(paths=[log])
    copied, copy_seconds = _copy_rate(log)
    assert copied == report.added, (copied, report.added)
    tally_rate, copy_rate = report.lines / tally.seconds, copied / copy_seconds
    return compared(
        "ingest tracking-log events from files",
        "rows/s",
        tally_rate,
        copy_rate,
        at_least=0.5,
        detail={"events": report.added, "lines": report.lines},
    )


def _rollup_tables_clear() -> None:
    """The rollup tables empty and the viewing files gone, as a fresh install has them: TRUNCATE on PostgreSQL,
    since the dead rows a DELETE leaves slow every later run wherever autovacuum is off or behind (this bench's
    runs slowed by a fifth each)."""
    models = (
        *ROLLUP_TABLES,
        LearnerEnrollmentState,
        LearnerStateDay,
        VideoViewingFile,
        ActivityLearnersFile,
        VideoSummary,
        VideoViewersFile,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(m._meta.db_table) for m in models)}")
    else:
        for model in models:
            model.objects.all().delete()
    JobRun.objects.filter(kind="course_analytics.rollup").delete()
    filesystem, root = fsspec.core.url_to_fs(str(settings.TRACKING_EVENT_STORE))
    for folder in (VIEWINGS_FOLDER, ACTIVITY_FOLDER, VIEWERS_FOLDER):
        if filesystem.exists(f"{root}/{folder}"):
            filesystem.rm(f"{root}/{folder}", recursive=True)


def _ensure_events(scale: Scale) -> None:
    """The scale's log and the matching profile export, ingested once (the demographic rollups join them)."""
    if not tracking_events_days():
        tracking_files_ingest(paths=[_log_file(scale)])
    if not LearnerProfile.objects.exists():
        profiles = io.StringIO("\n".join(profile_csv_lines(learners=scale.learners)))
        learner_profiles_ingest(stream=profiles, source="bench")


def _same(tally: pl.DataFrame, baseline: pl.DataFrame, keys: list[str], name: str) -> None:
    left, right = tally.sort(keys), baseline.select(tally.columns).sort(keys)
    if not left.equals(right):
        raise AssertionError(f"{name}: Tally and the baseline differ ({left.height} vs {right.height} rows)")


def _timed(name: str, work: Callable[[], object]) -> list[Result]:
    with Timer() as timer:
        work()
    return [Result(name, "s", timer.seconds, 0.0, 0.0, "", None)]


def _isolated(name: str, measure: Callable[[], list[Result]]) -> list[Result]:
    """The Results of `measure` (picklable: a partial of a module-level function) run in a process of its own, each
    with that process's peak memory."""
    outcome = run_isolated(measure)
    if isinstance(outcome, str):
        raise RuntimeError(f"{name}: {outcome}")
    return outcome


def _isolated_timing(name: str, work: Callable[[], object]) -> list[Result]:
    """`work` (picklable: a partial of a module-level function) timed in a process of its own: a Result holding its
    seconds (`tally`) and its peak memory."""
    return _isolated(name, partial(_timed, name, work))


def _nights(*, before: date, day: date) -> list[Result]:
    """The night of `before`, then the night of `day`, each timed, in this one process, as a long-lived Celery
    worker runs them: the second pays no imports or first plans, as the first does, but a connection of its own
    (Celery closes the database connections around every task)."""
    first = _timed("first night in a fresh process", partial(course_analytics_rollup, day=before))
    connections.close_all()
    return [*first, *_timed("nightly", partial(course_analytics_rollup, day=day))]


def rollups(scale: Scale) -> list[Result]:
    """Every rollup from scratch over the whole log (Tally: the backfill service) against polars and against
    DuckDB, each over Parquet of the same events computing the same tables in one program; then the night of the
    last day, after the days before it were rolled up and in the process that ran the night before it, against the
    from-scratch time."""
    _ensure_events(scale)
    _rollup_tables_clear()
    days = [START + timedelta(days=n) for n in range(scale.days)]
    # Tally's runs each in a process of their own, so that their peak memory is theirs, not the baselines'.
    (tally,) = _isolated_timing("from scratch", partial(course_analytics_backfill, first=days[0], last=days[-1]))
    # The night of the last day as it comes: after the nights of the days before, not as a rerun of a day rolled up
    # already (whose learner states are built, and so has less to do); in a worker that ran the night before it.
    _rollup_tables_clear()
    _isolated_timing("until the last nights", partial(course_analytics_backfill, first=days[0], last=days[-3]))
    cold, increment = _isolated("nightly", partial(_nights, before=days[-2], day=days[-1]))
    parquet = _store_files()
    last_complete = baselines.last_complete_day(START, scale.days)
    with Timer() as baseline:
        events = pl.scan_parquet(parquet, hive_partitioning=True, hive_schema={"day": pl.Date}, schema=EVENT_SCHEMA)
        daily, modes = baselines.enrollment_all_days(events, last_day=days[-1])
        weeks = baselines.activity_all_weeks(events, last_complete_day=last_complete)
    with Timer() as duck:
        duck_daily, duck_weeks = baselines.duckdb_rollups(parquet, last_day=days[-1], last_complete_day=last_complete)
    # The night of the last day in polars, from what the nights before it left (prepared untimed): the daily, mode
    # and weekly tables alone, none of Tally's demographic or video tables, into files rather than a database.
    with tempfile.TemporaryDirectory() as folder:
        baselines.night_prepare(events, day=days[-1], folder=Path(folder))
        with Timer() as polars_night:
            day_events = pl.scan_parquet(partition_files(days=[days[-1]])[days[-1]], schema=EVENT_SCHEMA)
            night_daily, night_modes, night_weeks = baselines.night(day_events, day=days[-1], folder=Path(folder))
    tally_daily = queryset_frame(
        EnrollmentDaily.objects.all(),
        {"course_id": pl.String, "date": pl.Date, "count": pl.Int64, "cumulative_count": pl.Int64},
    ).rename({"date": "day"})
    tally_modes = queryset_frame(
        EnrollmentModeDaily.objects.all(),
        {"course_id": pl.String, "date": pl.Date, "mode": pl.String, "count": pl.Int64, "cumulative_count": pl.Int64},
    ).rename({"date": "day"})
    tally_weeks = queryset_frame(
        ActivityWeekly.objects.all(),
        {
            "course_id": pl.String,
            "interval_start": pl.Datetime("us", "UTC"),
            "activity_type": pl.String,
            "count": pl.Int64,
        },
    ).select("course_id", pl.col("interval_start").dt.date().alias("week"), "activity_type", "count")
    cast = [pl.col("count").cast(pl.Int64), pl.col("cumulative_count").cast(pl.Int64)]
    _same(tally_daily, daily.with_columns(*cast), ["course_id", "day"], "enrollment daily")
    _same(tally_modes, modes.with_columns(*cast), ["course_id", "day", "mode"], "enrollment by mode")
    _same(
        tally_weeks,
        weeks.with_columns(pl.col("count").cast(pl.Int64)),
        ["course_id", "week", "activity_type"],
        "activity",
    )
    _same(tally_daily, duck_daily, ["course_id", "day"], "enrollment daily (DuckDB)")
    _same(tally_weeks, duck_weeks, ["course_id", "week", "activity_type"], "activity (DuckDB)")
    last_day, last_week = pl.col("day") == days[-1], pl.col("week") == days[-1] - timedelta(days=6)
    _same(tally_daily.filter(last_day), night_daily, ["course_id"], "enrollment daily (polars night)")
    _same(tally_modes.filter(last_day), night_modes, ["course_id", "mode"], "enrollment by mode (polars night)")
    _same(tally_weeks.filter(last_week), night_weeks, ["course_id", "activity_type"], "activity (polars night)")
    events_count = tracking_events_count()
    detail = {"events": events_count, "days": len(days), "nightly peak MB": increment.peak_mb}
    from_scratch = [
        compared(
            "all course_analytics rollups from scratch (vs DuckDB; daily and weekly tables)",
            "s",
            tally.tally,
            duck.seconds,
            detail=detail,
        ),
        compared(
            "all course_analytics rollups from scratch",
            "s",
            tally.tally,
            baseline.seconds,
            at_most=1.5,
            detail=detail,
        ),
    ]
    for result in from_scratch:
        result.peak_mb = tally.peak_mb
    nightly = compared(
        "nightly increment for one day (of from scratch)",
        "s",
        increment.tally,
        tally.tally,
        at_most=0.01,
        detail={"night before, in a fresh process (s)": round(cold.tally, 4)},
    )
    nightly.peak_mb = increment.peak_mb
    against_polars = compared(
        "nightly increment for one day (vs polars's night: daily and weekly tables)",
        "s",
        increment.tally,
        polars_night.seconds,
        detail={"polars's night of polars from scratch": round(polars_night.seconds / baseline.seconds, 4)},
    )
    against_polars.peak_mb = increment.peak_mb
    return [*from_scratch, nightly, against_polars]


def _groups_ensure(scale: Scale) -> None:
    """`scale.groups` groups with varied columns over two years, bulk-inserted (the services' per-group rules would
    take hours at a million; the count reads the same rows however they were written)."""
    if Group.objects.count() >= scale.groups:
        return
    Group.objects.update(parent=None)  # a parent is protected from deletion while it has children
    Group.objects.all().delete()
    owner = user_ensure(username="bench-owner")
    origin = datetime(2024, 1, 1, tzinfo=UTC)
    batch = []
    for n in range(scale.groups):
        batch.append(
            Group(
                public_id=uuid.UUID(int=n + 1, version=4),
                name=f"Group {n}",
                slug=f"g{n}",
                owner=owner,
                created_at=origin + timedelta(minutes=n * 997 % (730 * 1440)),
                updated_at=origin,
                status=("active", "suspended", "inactive")[n % 3],
                type=("group", "workspace")[n % 5 == 0],
                open_access=n % 7 == 0,
                project_number=f"P-{n % 10000:04d}",
            )
        )
        if len(batch) == 20_000:
            Group.objects.bulk_create(batch)
            batch = []
    Group.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE groups_group" if connection.vendor == "postgresql" else "ANALYZE")


def group_count_measure(scale: Scale) -> Result:
    """get_group_count (validation and the ORM query) against the same count in hand-written SQL."""
    _groups_ensure(scale)
    data = {
        "query": [
            {"query_group": [{"state": "active"}, {"state": "pending"}]},
            {"query_group": [{"type": "workspace"}, {"open_access": True}]},
            {"query_group": [{"name": "g1%", "operator": "like"}, {"project_number": "P-5000", "operator": ">="}]},
        ],
        "start_date": "2024-03-01",
        "end_date": "2025-02-28",
        "date_field": "created",
    }
    params = [
        datetime(2024, 3, 1, tzinfo=UTC),
        datetime(2025, 3, 1, tzinfo=UTC),
        "active",
        "suspended",
        "workspace",
        True,
        "g1%",
        "P-5000",
    ]
    tally_times, sql_times, counts = [], [], set()
    for _ in range(scale.repeats):
        with Timer() as tally:
            counts.add(group_count(query=group_count_query_parse(data=data)))
        with connection.cursor() as cursor, Timer() as raw:
            cursor.execute(baselines.GROUP_COUNT_SQL, params)
            counts.add(cursor.fetchone()[0])
        tally_times.append(tally.seconds)
        sql_times.append(raw.seconds)
    assert len(counts) == 1, counts
    tally_s, sql_s = statistics.median(tally_times), statistics.median(sql_times)
    return compared(
        f"get_group_count over {scale.groups:,} groups, three query groups",
        "s",
        tally_s,
        sql_s,
        at_most=1.5,
        detail={"count": counts.pop()},
    )


def _load(port: int, path: str, headers: dict, *, seconds: float, clients: int, body: str | None = None) -> dict:
    """Keep-alive GETs (POSTs of `body` when given) from `clients` threads on loopback for `seconds`: requests per
    second, p99 and errors."""
    call = Call(path, "GET" if body is None else "POST", path, headers, body)
    figures = load(port, lambda client: repeat(call), seconds=seconds, clients=clients, timeout=10)
    return _load_figures(figures.latencies, seconds=seconds, errors=figures.errors)


def _load_figures(latencies: list[float], *, seconds: float, errors: int) -> dict:
    latencies = sorted(latencies)
    return {
        "rps": len(latencies) / seconds,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "errors": errors,
        "latencies": latencies,
    }


def _load_alternating(port: int, targets: list[tuple], *, seconds: float, clients: int, rounds: int = 6) -> list:
    """`_load` of each (path, headers, body) target in turn, `rounds` times, `seconds` in all per target: on a shared
    machine whose load drifts, every target meets the same conditions."""
    runs: list[list[dict]] = [[] for _ in targets]
    for _ in range(rounds):
        for runs_of, (path, headers, body) in zip(runs, targets, strict=True):
            runs_of.append(_load(port, path, headers, seconds=seconds / rounds, clients=clients, body=body))
    return [
        _load_figures(
            [latency for run in runs_of for latency in run["latencies"]],
            seconds=seconds,
            errors=sum(run["errors"] for run in runs_of),
        )
        for runs_of in runs
    ]


# Issue 15's goal for the v0 and Sunbird reads: besides the rate, a p99 at most 1.5x the bare view's.
P99_AT_MOST = 1.5


def _versus_bare(name: str, measured: dict, bare: dict, *, p99_at_most: float | None = None, **detail) -> Result:
    """An HTTP measure's row: requests per second against the bare view's, goal 0.8, and when `p99_at_most` is
    given the p99 against the bare view's too (both must hold); no errors."""
    p99_ratio = round(measured["p99_ms"] / bare["p99_ms"], 2)
    result = compared(
        name,
        "req/s",
        measured["rps"],
        bare["rps"],
        at_least=0.8,
        valid=not measured["errors"] and (p99_at_most is None or p99_ratio <= p99_at_most),
        detail={"p99_ms": measured["p99_ms"], "bare_p99_ms": bare["p99_ms"], "p99_ratio": p99_ratio,
                "errors": measured["errors"], **detail},
    )  # fmt: skip
    if p99_at_most is not None:
        result.goal = f">= 0.8, p99 <= {p99_at_most}x"
    return result


@transaction.atomic
def _http_fixtures() -> dict:
    from apps.groups.services import MemberSpec, group_create

    owner = user_ensure(username="bench-http")
    # The v0 endpoints serve a trusted dashboard service, which the reference's clients are: analytics scope, the
    # service rate.
    _, key = api_key_create(user=owner, name="bench", analytics=True, service=True)
    members = [user_ensure(username=f"bench-member-{n}") for n in range(30)]
    group = group_create(actor=owner, name="Bench group", members=[MemberSpec(str(m.public_id)) for m in members]).group
    if not EnrollmentDaily.objects.filter(course_id=COURSES[0]).exists():
        EnrollmentDaily.objects.create(
            course_id=COURSES[0], date=START, count=1, cumulative_count=1, created=datetime.now(UTC)
        )
    return {"key": key, "group_pk": group.pk, "group_id": str(group.public_id)}


def http(scale: Scale) -> list[Result]:
    """Requests per second of Tally's endpoints against a bare Django view reading one row through the ORM, each
    behind the same gunicorn (2 workers) and load generator (threads on loopback, for a bounded time)."""
    fixtures = _http_fixtures()
    port = free_port()
    server = serve(port)
    try:
        token = {"Authorization": f"Token {fixtures['key']}"}
        targets = {
            "v0 enrollment": (f"/api/v0/courses/{COURSES[0]}/enrollment/?start_date=2000-01-01", token),
            "Sunbird read (30 members)": (
                f"/api/group/v1/read/{fixtures['group_id']}?fields=members,activities",
                {"Authorization": f"Bearer {fixtures['key']}", "x-authenticated-user-token": fixtures["key"]},
            ),
        }
        bare, *measured = _load_alternating(
            port,
            [(f"/bench/bare/group/{fixtures['group_pk']}", {}, None),
             *((path, headers, None) for path, headers in targets.values())],
            seconds=scale.http_seconds,
            clients=scale.http_clients,
        )  # fmt: skip
        return [
            _versus_bare(f"{name} req/s vs bare Django+ORM", figures, bare, p99_at_most=P99_AT_MOST)
            for name, figures in zip(targets, measured, strict=True)
        ]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _dataset_files(scale: Scale) -> tuple[Path, Path]:
    """The scale's sessions and membership NDJSON files (deterministic), written once: users spread over the
    district/school/class tree, SESSIONS_PER_USER sessions each over 15 activities, max scores 0 to 30."""
    sessions_path = BENCH_DIR / f"sessions-{scale.name}-{scale.dataset_users}.ndjson"
    members_path = BENCH_DIR / f"memberships-{scale.name}-{scale.dataset_users}.ndjson"
    if sessions_path.exists() and members_path.exists():
        return sessions_path, members_path
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    districts, schools, classes = scale.dataset_tree
    user = pl.int_range(scale.dataset_users, eager=True).alias("n").to_frame()
    sessions = (
        user.join(pl.int_range(SESSIONS_PER_USER, eager=True).alias("k").to_frame(), how="cross")
        .with_columns(max_score=((pl.col("n") + pl.col("k")) % 4 * 10).cast(pl.Float64))
        .select(
            session_id=pl.format("s{}-{}", "n", "k"),
            user_id=pl.format("u{}", "n"),
            activity_id=pl.format("a{}", (pl.col("n") * 7 + pl.col("k") * 3) % 15),
            score=((pl.col("n") * 31 + pl.col("k") * 17) % (pl.col("max_score") + 1)).cast(pl.Float64),
            max_score="max_score",
            attempted_max_score="max_score",
            unscored_max_score=pl.lit(0.0),
            status=pl.lit("Completed"),
            dt_completed=pl.format("2025-03-{}T10:00:00Z", (pl.col("k") % 28 + 1).cast(pl.String).str.zfill(2)),
        )
    )
    district = pl.col("n") % districts
    school = pl.col("n") // districts % schools
    members = user.select(
        user_id=pl.format("u{}", "n"),
        session_id=pl.concat_list([pl.format("s{}-{}", "n", pl.lit(k)) for k in range(SESSIONS_PER_USER)]),
        group_path=pl.concat_list(
            pl.format("District {}", district),
            pl.format("School {}-{}", district, school),
            pl.format("Class {}-{}-{}", district, school, pl.col("n") // (districts * schools) % classes),
        ),
    )
    for frame, path in ((sessions, sessions_path), (members, members_path)):
        partial = path.with_suffix(".partial")
        frame.write_ndjson(partial)
        partial.rename(path)
    return sessions_path, members_path


def _tally_statistics(dataset_id: str) -> pl.DataFrame:
    """The `self` row of every node, read back from the first page of each file Tally wrote."""
    rows = []
    for output_file in DatasetOutputFile.objects.filter(dataset__dataset_id=dataset_id, page=1):
        document = output_document_read(output_file=output_file)
        rows.append(
            dict(zip(DATASET_FIELDS, document["self"][3:], strict=True)) | {"path": "\x1f".join(document["group_path"])}
        )
    return pl.DataFrame(rows, infer_schema_length=None)


def _same_statistics(tally: pl.DataFrame, baseline: pl.DataFrame) -> None:
    baseline = baseline.with_columns(pl.col("path").list.join("\x1f"))
    joined = tally.join(baseline, on="path", how="full", suffix="_baseline", coalesce=True)
    if joined.height != tally.height or joined.height != baseline.height:
        raise AssertionError(f"dataset nodes differ: {tally.height} by Tally, {baseline.height} by the baseline")
    for field in DATASET_FIELDS:
        mine, theirs = pl.col(field).cast(pl.Float64), pl.col(f"{field}_baseline").cast(pl.Float64)
        differ = (mine.is_null() != theirs.is_null()) | ((mine - theirs).abs() > 1e-9 * (1 + theirs.abs()))
        if joined.select(differ.any()).item():
            raise AssertionError(f"dataset field {field} differs between Tally and the baseline")


def dataset_aggregation(scale: Scale) -> Result:
    """Tally's whole dataset job (read the sessions from the database and the uploaded membership file, compute
    every field for every node, write every file) against polars computing the same statistics from the same data
    (the sessions and membership NDJSON files) in one program."""
    sessions_path, members_path = _dataset_files(scale)
    expected = scale.dataset_users * SESSIONS_PER_USER
    if Session.objects.count() != expected:
        Session.objects.all().delete()
        with sessions_path.open() as lines:
            sessions_ingest(lines=lines)
    sessions_snapshot_refresh()  # as the ingest leaves it (a no-op then), on sessions that an earlier run stored
    consumer = Consumer.objects.filter(name="bench").first() or consumer_create(name="bench")
    request = {
        "dataset_type": "sessions-summary-by-group",
        "dataset_id": str(uuid.uuid4()),
        "options": {"fields": DATASET_FIELDS},
        "groups": [{"key": key, "label": key.title()} for key in ("district", "school", "class")],
    }
    dataset = dataset_create(consumer=consumer, spec=dataset_spec_parse(request))
    upload = dataset.input_files.get()
    file_write_complete(name=upload.name, content=members_path.read_bytes())
    DatasetInputFile.objects.filter(pk=upload.pk).update(uploaded_at=datetime.now(UTC))
    DatasetJob.objects.create(dataset=dataset)  # as the last upload does, without a broker round trip
    with Timer() as tally:
        job = dataset_build(dataset_id=request["dataset_id"])
    assert job.status == "completed", job.error
    with Timer() as baseline:
        expected_statistics = baselines.dataset_statistics(
            str(sessions_path), str(members_path), depth=3, fields=DATASET_FIELDS
        )
    _same_statistics(_tally_statistics(request["dataset_id"]), expected_statistics)
    files = DatasetOutputFile.objects.filter(dataset=dataset).count()
    return compared(
        f"dataset aggregation, {expected:,} sessions, 3-level hierarchy (vs polars)",
        "s",
        tally.seconds,
        baseline.seconds,
        at_most=1.5,
        detail={
            "sessions": expected,
            "users": scale.dataset_users,
            "nodes": expected_statistics.height,
            "files": files,
        },
    )


AGG_USERS = 5_000
AGG_MEMBERS = 150
AGG_METRICS = ("completedCount", "score", "progress")


def _agg_learners():
    return get_user_model().objects.filter(username__regex=r"^bench-agg-[0-9]+$")


def _aggregate_rows_ensure(scale: Scale) -> list[str]:
    """`scale.aggregate_rows` activity aggregates (AGG_USERS users x courses x AGG_METRICS), bulk-copied once;
    returns the course ids, the first being the one the group reads."""
    per_course = AGG_USERS * len(AGG_METRICS)
    courses = [f"course-v1:BenchX+AGG{n:03d}+2025_T1" for n in range(-(-scale.aggregate_rows // per_course))]
    if ActivityAggregate.objects.count() == len(courses) * per_course:
        return courses
    ActivityAggregate.objects.all().delete()
    user_model = get_user_model()
    user_model.objects.bulk_create(
        [user_model(username=f"bench-agg-{n}", first_name="Learner", last_name=str(n)) for n in range(AGG_USERS)],
        ignore_conflicts=True,
        batch_size=5000,
    )
    learners = _agg_learners()
    users = queryset_frame(learners, {"id": pl.Int64})
    rows = (
        users.join(pl.DataFrame({"activity_id": courses}), how="cross")
        .join(pl.DataFrame({"metric": AGG_METRICS}), how="cross")
        .with_columns(
            activity_type=pl.lit("Course"),
            value=(pl.col("id") % 20).cast(pl.Float64),
            last_updated=pl.lit(datetime(2025, 3, 1, tzinfo=UTC)) + pl.duration(minutes=pl.col("id") % 997),
        )
        .rename({"id": "user_id"})
        .select("activity_type", "activity_id", "user_id", "metric", "value", "last_updated")
    )
    for start in range(0, rows.height, 200_000):
        frame_insert(table=ActivityAggregate._meta.db_table, frame=rows.slice(start, 200_000))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor != "postgresql" else "ANALYZE activity_agg_activityaggregate")
    return courses


@transaction.atomic
def _agg_group(course_id: str) -> dict:
    """A group of AGG_MEMBERS (its admin and AGG_MEMBERS - 1 learners with aggregates) doing `course_id`."""
    from apps.groups.services import ActivitySpec, MemberSpec, group_create

    owner = user_ensure(username="bench-activity-owner")
    _, key = api_key_create(user=owner, name="bench")
    group = Group.objects.filter(created_by=owner, name="Bench activity agg").first()
    if group is None:
        members = _agg_learners().order_by("id")
        specs = [
            MemberSpec(str(public_id)) for public_id in members.values_list("public_id", flat=True)[: AGG_MEMBERS - 1]
        ]
        group = group_create(
            actor=owner, name="Bench activity agg", members=specs, activities=[ActivitySpec(course_id, "Course")]
        ).group
    return {"key": key, "group_pk": group.pk, "group_id": str(group.public_id)}


def _same_members(tally: dict, bare: dict) -> None:
    def members(result: dict) -> list:
        return sorted((m["userId"], sorted((a["metric"], a["value"], a["lastUpdatedOn"]) for a in m["agg"]))
                      for m in result["members"])  # fmt: skip

    enrolled = tally["activity"]["agg"][0]["value"]
    if (enrolled, members(tally)) != (bare["enrolmentCount"], members(bare)):
        raise AssertionError("activity agg: Tally and the bare view differ")
    if enrolled != AGG_MEMBERS - 1:
        raise AssertionError(f"activity agg: {enrolled} enrolled members, expected {AGG_MEMBERS - 1}")


def activity_agg(scale: Scale) -> Result:
    """POST /api/data/v1/group/activity/agg for a group of 150 over `scale.aggregate_rows` aggregate rows (Redis
    cache when the broker is Redis, as production sets TALLY_CACHE_URL) against a bare Django view reading the same
    members and rows through the ORM, each behind the same gunicorn and load generator; both answers are checked
    equal before any time is taken."""
    courses = _aggregate_rows_ensure(scale)
    fixtures = _agg_group(courses[0])
    port = free_port()
    server = serve(port)
    try:
        body = json.dumps(
            {"request": {"groupId": fixtures["group_id"], "activityId": courses[0], "activityType": "Course"}}
        )
        headers = {"Authorization": f"Bearer {fixtures['key']}", "x-authenticated-user-token": fixtures["key"],
                   "Content-Type": "application/json"}  # fmt: skip
        path, bare_path = (
            "/api/data/v1/group/activity/agg",
            f"/bench/bare/agg/{fixtures['group_pk']}?{urlencode({'activity_id': courses[0]})}",
        )
        conn = HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", path, body=body, headers=headers)
        tally_answer = json.loads(conn.getresponse().read())["result"]
        conn.request("GET", bare_path)
        _same_members(tally_answer, json.loads(conn.getresponse().read()))
        conn.close()
        bare, measured = _load_alternating(
            port,
            [(bare_path, {}, None), (path, headers, body)],
            seconds=scale.http_seconds,
            clients=scale.http_clients,
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    name = f"activity agg (150 members) over {ActivityAggregate.objects.count():,} aggregate rows, req/s vs bare"
    return _versus_bare(name, measured, bare, cache="redis" if shared_cache() else "per process")


NEWSPARK_VHOST = 9100


def _newspark_groups_ensure(scale: Scale) -> None:
    """`scale.newspark_groups` groups in a vhost of their own: a two-level tree (a root per hundred), varied dates
    and places, members on every tenth group (the triggers count them), numbered by the tree service once."""
    from apps.groups.tree import tree_numbers_rebuild

    groups = Group.objects.filter(vhost=NEWSPARK_VHOST)
    if groups.count() == scale.newspark_groups:
        return
    groups.update(parent=None)
    groups.delete()
    owner = user_ensure(username="bench-newspark")
    origin = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        Group(
            public_id=uuid.uuid5(uuid.NAMESPACE_OID, f"newspark-{n}"),
            name=f"Newspark group {n}",
            slug=f"newspark-{n}",
            vhost=NEWSPARK_VHOST,
            created_by=owner,
            created_at=origin + timedelta(minutes=n * 7919 % (730 * 1440)),
            moderation_status=("accepted", "accepted", "accepted", "unmoderated")[n % 4],
            latitude=(n * 37 % 18000) / 100 - 90,
            longitude=(n * 53 % 36000) / 100 - 180,
            city=f"City {n % 500}",
            other={"n": n} if n % 3 == 0 else {},
        )
        for n in range(scale.newspark_groups)
    ]
    Group.objects.bulk_create(rows, batch_size=20_000)
    ids = list(groups.order_by("pk").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        # Fresh statistics first: planned as one row for the vhost, the self-join below is a nested loop over every
        # pair of its groups.
        cursor.execute("ANALYZE groups_group" if connection.vendor == "postgresql" else "ANALYZE")
        cursor.execute(
            "UPDATE groups_group SET parent_id = roots.id FROM groups_group roots "
            "WHERE groups_group.vhost = %s AND roots.vhost = %s AND groups_group.id %% 100 <> 0 "
            "AND roots.id = groups_group.id - groups_group.id %% 100 AND roots.id >= %s",
            [NEWSPARK_VHOST, NEWSPARK_VHOST, ids[0]],
        )
    tree_numbers_rebuild(vhost=NEWSPARK_VHOST)
    members = [user_ensure(username=f"bench-newspark-member-{n}") for n in range(20)]
    Membership.objects.bulk_create(
        [Membership(group_id=pk, user=user) for pk in ids[::10] for user in members[: pk % 20]], batch_size=20_000
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE groups_group" if connection.vendor == "postgresql" else "ANALYZE")


def get_groups(scale: Scale) -> Result:
    """getGroups (JSON, anonymous, the default sort) of one page of 100 against a bare Django view reading the same
    page through the ORM, behind the same gunicorn and load generator; both must list the same groups first."""
    _newspark_groups_ensure(scale)
    port = free_port()
    server = serve(port)
    try:
        tally_path = f"/services/json/groups/getGroups?vhost={NEWSPARK_VHOST}&startPage=2"
        bare_path = f"/bench/bare/newspark/{NEWSPARK_VHOST}?page=2"
        tally_ids = [item["id"] for key, item in _get_json(port, tally_path)["result"].items() if key.isdigit()]
        bare_ids = [str(row["id"]) for row in _get_json(port, bare_path)["groups"]]
        assert len(tally_ids) == 100, len(tally_ids)
        assert tally_ids == bare_ids, (tally_ids[:5], bare_ids[:5])
        load = {"seconds": scale.http_seconds, "clients": scale.http_clients}
        bare, measured = _load_alternating(port, [(bare_path, {}, None), (tally_path, {}, None)], **load)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return _versus_bare(
        f"getGroups page of 100 over {scale.newspark_groups:,} groups req/s vs bare Django+ORM", measured, bare
    )


def _get_json(port: int, path: str) -> dict:
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.status == 200, (path, response.status, body[:300])
    return json.loads(body)


MEASURES: dict[str, Callable[[Scale], Result | list[Result]]] = {
    "ingest": ingest,
    "rollups": rollups,
    "group_count": group_count_measure,
    "http": http,
    "datasets": dataset_aggregation,
    "activity_agg": activity_agg,
    "get_groups": get_groups,
}


def report_write(*, scale: Scale, results: list[Result], errors: dict[str, str]) -> Path:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "scale": scale.name,
        "finished": datetime.now(UTC).isoformat(),
        "database": connection.vendor,
        "results": [asdict(result) for result in results],
        "errors": errors,
    }
    path = BENCH_DIR / f"{scale.name}-latest.json"
    path.write_text(json.dumps(payload, indent=2))
    return path


def table(results: list[Result], errors: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter="|", lineterminator="\n")
    writer.writerow(["measure", "Tally", "baseline", "ratio", "goal", "holds", "peak MB"])
    for r in results:
        p99 = f" (p99 {r.detail['p99_ms']} ms)" if "p99_ms" in r.detail else ""
        bare_p99 = f" (p99 {r.detail['bare_p99_ms']} ms)" if "bare_p99_ms" in r.detail else ""
        writer.writerow(
            [
                r.name,
                f"{r.tally:g} {r.unit}{p99}",
                f"{r.baseline:g} {r.unit}{bare_p99}",
                r.ratio,
                r.goal,
                {True: "yes", False: "NO", None: "—"}[r.holds],
                r.peak_mb,
            ]
        )
    for name, error in errors.items():
        writer.writerow([name, "failed", error, "", "", "NO", ""])
    rows = [line.split("|") for line in out.getvalue().splitlines()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |" for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)
