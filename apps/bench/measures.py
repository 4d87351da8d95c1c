"""The measures of `make bench`. Each prepares its data (untimed), times Tally and its baseline on the same data,
checks that both computed the same results, and returns a Result."""

import csv
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection
from pathlib import Path

import polars as pl
from django.conf import settings
from django.db import connection, transaction

from apps.bench import baselines
from apps.bench.runner import Result, Timer, compared
from apps.bench.scales import COURSES, START, Scale
from apps.common.frames import frame_insert, queryset_frame
from apps.common.models import JobRun
from apps.common.services import api_key_create, user_ensure
from apps.course_analytics.demo import profile_csv_lines, tracking_log_lines
from apps.course_analytics.models import (
    ActivityWeekly,
    EnrollmentDaily,
    EnrollmentModeDaily,
    LearnerProfile,
    TrackingEvent,
)
from apps.course_analytics.services.ingest import (
    STORED_COLUMNS,
    events_frame,
    learner_profiles_ingest,
    tracking_files_ingest,
)
from apps.course_analytics.services.rollups import course_analytics_backfill, course_analytics_rollup
from apps.groups.models import Group
from apps.stats.query import group_count_query_parse
from apps.stats.selectors import group_count

BENCH_DIR = Path(settings.VAR_DIR) / "bench"
EVENT_COLUMNS = {
    "id": pl.Int64,
    "time": pl.Datetime("us", "UTC"),
    "day": pl.Date,
    "course_id": pl.String,
    "lms_user_id": pl.Int64,
    "event_type": pl.String,
    "event_source": pl.String,
    "mode": pl.String,
}


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


def _events_parquet(scale: Scale) -> str:
    """The stored events as Parquet, a file per week, exported week by week to bound memory; returns the glob."""
    folder = BENCH_DIR / f"events-{scale.name}"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.parquet"):
        stale.unlink()
    for week in range(0, scale.days, 7):
        first = START + timedelta(days=week)
        events = TrackingEvent.objects.filter(day__gte=first, day__lt=first + timedelta(days=7)).order_by("id")
        queryset_frame(events, EVENT_COLUMNS).write_parquet(folder / f"{first.isoformat()}.parquet")
    return str(folder / "*.parquet")


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
    columns = ", ".join(STORED_COLUMNS)
    copied, seconds = 0, 0.0
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(f"CREATE TABLE bench_copy AS SELECT {columns} FROM course_analytics_trackingevent WHERE 1 = 0")
    for batch in _log_batches(log):
        rows = events_frame(batch).filter(pl.col("problem").is_null()).select(STORED_COLUMNS)
        with Timer() as timer:
            copied += frame_insert(table="bench_copy", frame=rows)
        seconds += timer.seconds
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
    return copied, seconds


def ingest(scale: Scale) -> Result:
    """Tally's ingest of the log file against COPY of the same rows."""
    log = _log_file(scale)
    TrackingEvent.objects.all().delete()
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
    for model in (EnrollmentDaily, EnrollmentModeDaily, ActivityWeekly):
        model.objects.all().delete()
    JobRun.objects.filter(kind="course_analytics.rollup").delete()


def _ensure_events(scale: Scale) -> None:
    """The scale's log and the matching profile export, ingested once (the demographic rollups join them)."""
    if not TrackingEvent.objects.exists():
        tracking_files_ingest(paths=[_log_file(scale)])
    if not LearnerProfile.objects.exists():
        profiles = io.StringIO("\n".join(profile_csv_lines(learners=scale.learners)))
        learner_profiles_ingest(stream=profiles, source="bench")


def _same(tally: pl.DataFrame, baseline: pl.DataFrame, keys: list[str], name: str) -> None:
    left, right = tally.sort(keys), baseline.select(tally.columns).sort(keys)
    if not left.equals(right):
        raise AssertionError(f"{name}: Tally and the baseline differ ({left.height} vs {right.height} rows)")


def rollups(scale: Scale) -> list[Result]:
    """Every rollup from scratch over the whole log (Tally: the backfill service) against polars and against
    DuckDB, each over Parquet of the same events computing the same tables in one program; then one nightly
    increment against the from-scratch time."""
    _ensure_events(scale)
    _rollup_tables_clear()
    days = [START + timedelta(days=n) for n in range(scale.days)]
    with Timer() as tally:
        course_analytics_backfill(first=days[0], last=days[-1])
    with Timer() as increment:
        course_analytics_rollup(day=days[-1])
    parquet = _events_parquet(scale)
    last_complete = baselines.last_complete_day(START, scale.days)
    with Timer() as baseline:
        events = pl.scan_parquet(parquet)
        daily, modes = baselines.enrollment_all_days(events, last_day=days[-1])
        weeks = baselines.activity_all_weeks(events, last_complete_day=last_complete)
    with Timer() as duck:
        duck_daily, duck_weeks = baselines.duckdb_rollups(parquet, last_day=days[-1], last_complete_day=last_complete)
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
    events_count = TrackingEvent.objects.count()
    detail = {"events": events_count, "days": len(days)}
    return [
        compared(
            "all course_analytics rollups from scratch (vs DuckDB; daily and weekly tables)",
            "s",
            tally.seconds,
            duck.seconds,
            detail=detail,
        ),
        compared(
            "all course_analytics rollups from scratch",
            "s",
            tally.seconds,
            baseline.seconds,
            at_most=1.5,
            detail=detail,
        ),
        compared(
            "nightly increment for one day (of from scratch)", "s", increment.seconds, tally.seconds, at_most=0.01
        ),
    ]


def _groups_ensure(scale: Scale) -> None:
    """`scale.groups` groups with varied columns over two years, bulk-inserted (the services' per-group rules would
    take hours at a million; the count reads the same rows however they were written)."""
    if Group.objects.count() >= scale.groups:
        return
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _load(port: int, path: str, headers: dict, *, seconds: float, clients: int) -> dict:
    """Keep-alive GETs from `clients` threads on loopback for `seconds`: requests per second, p99 and errors."""
    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + seconds
    lock = threading.Lock()

    def client() -> None:
        conn = HTTPConnection("127.0.0.1", port, timeout=10)
        mine, failed = [], 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            failed += response.status != 200
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "errors": errors[0],
    }


def _serve(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "TALLY_LOG_LEVEL": "WARNING",
        "TALLY_API_THROTTLE_RATE": "100000000/minute",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not start")


@transaction.atomic
def _http_fixtures() -> dict:
    from apps.groups.services import MemberSpec, group_create

    owner = user_ensure(username="bench-http")
    _, key = api_key_create(user=owner, name="bench")
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
    port = _free_port()
    server = _serve(port)
    try:
        load = {"seconds": scale.http_seconds, "clients": scale.http_clients}
        bare = _load(port, f"/bench/bare/group/{fixtures['group_pk']}", {}, **load)
        token = {"Authorization": f"Token {fixtures['key']}"}
        targets = {
            "v0 enrollment": (f"/api/v0/courses/{COURSES[0]}/enrollment/?start_date=2000-01-01", token),
            "Sunbird read (30 members)": (
                f"/api/group/v1/read/{fixtures['group_id']}?fields=members,activities",
                {"Authorization": f"Bearer {fixtures['key']}", "x-authenticated-user-token": fixtures["key"]},
            ),
        }
        results = []
        for name, (path, headers) in targets.items():
            measured = _load(port, path, headers, **load)
            detail = {"p99_ms": measured["p99_ms"], "bare_p99_ms": bare["p99_ms"], "errors": measured["errors"]}
            results.append(
                compared(
                    f"{name} req/s vs bare Django+ORM",
                    "req/s",
                    measured["rps"],
                    bare["rps"],
                    at_least=0.8,
                    valid=not measured["errors"],
                    detail=detail,
                )
            )
        return results
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


MEASURES = {"ingest": ingest, "rollups": rollups, "group_count": group_count_measure, "http": http}
NOT_BUILT = [
    ("dataset aggregation, 2M sessions, 3-level hierarchy", "<= 1.5x polars", "the datasets app is not built yet"),
    ("getGroups page of 100 over 100k groups", ">= 0.8x bare", "the Newspark dialect is not built yet"),
    ("activity agg (150 members)", ">= 0.8x bare", "the activity_agg app is not built yet"),
]


def report_write(*, scale: Scale, results: list[Result], errors: dict[str, str]) -> Path:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "scale": scale.name,
        "finished": datetime.now(UTC).isoformat(),
        "database": connection.vendor,
        "results": [asdict(result) for result in results],
        "errors": errors,
        "not_built": [{"name": n, "goal": g, "why": w} for n, g, w in NOT_BUILT],
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
    for name, goal, why in NOT_BUILT:
        writer.writerow([name, "—", "—", "", goal, f"not measured: {why}", ""])
    rows = [line.split("|") for line in out.getvalue().splitlines()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |" for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)
