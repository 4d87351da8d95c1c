"""Ingest of Open edX tracking logs and learner profiles. Both are idempotent: events are keyed by the SHA-256 of
their line, profiles by the LMS user id. Lines are parsed in batches by polars (JSON paths, vectorised), not one by
one in Python."""

import csv
import gzip
import io
import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO

import polars as pl
import polars_hash
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from apps.common.audit import audit_log_batch
from apps.common.frames import FIRST_MOMENT, LAST_MOMENT, staging_table
from apps.common.lookups import id_lookups
from apps.common.safe_json import JSON_MAX_DEPTH, JSONError, JSONSyntaxError, json_load
from apps.common.services import job_lock, job_transaction_lock
from apps.course_analytics.eventstore import day_lock, events_scan, partition_append
from apps.course_analytics.models import LearnerProfile, LearnerStateDay
from apps.course_analytics.signals import tracking_events_stored

BATCH_SIZE = 50_000
PROFILE_FIELDS = ("year_of_birth", "level_of_education", "gender", "country")
MAX_REPORTED_PROBLEMS = 100
# The lock of the learner-state table (apps.course_analytics.services.rollups builds it; an ingest marks it stale).
STATE_KIND = "course_analytics.learner_state"
ENROLLMENT_EVENTS = ("edx.course.enrollment.activated", "edx.course.enrollment.deactivated",
                     "edx.course.enrollment.mode_changed")  # fmt: skip
# Legacy names are what the reference pipeline reads; newer platforms emit the edx.video.* names for the same acts.
VIDEO_EVENTS = {
    "play_video": "play_video", "pause_video": "pause_video", "seek_video": "seek_video", "stop_video": "stop_video",
    "edx.video.played": "play_video", "edx.video.paused": "pause_video", "edx.video.position.changed": "seek_video",
    "edx.video.stopped": "stop_video",
}  # fmt: skip
PROFILE_COLUMNS = ("user_id", "year_of_birth", "level_of_education", "gender", "country")
# What a page can show and both databases store: moments within Python's years once in UTC (FIRST_MOMENT to
# LAST_MOMENT), and text without NUL (a `\u0000` escape that is not itself an escaped backslash). A lone surrogate
# already reads as a missing field.
NUL_ESCAPE = r"(?:^|[^\\])(?:\\\\)*\\u0000"
# What Python's str.strip() strips (polars' default keeps \x1c-\x1f): a line's key is the hash of it stripped so.
PYTHON_WHITESPACE = "".join(char for char in map(chr, range(0x3001)) if char.isspace())
# A random (version 4) UUID as Django stores one on SQLite: 32 hex digits, the version digit 4, the variant 8 to b.
SQLITE_UUID4 = (
    "lower(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2) || "
    "substr('89ab', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 2) || hex(randomblob(6)))"
)


@dataclass
class IngestReport:
    """What an ingest did: lines read, events added (new keys), lines skipped as irrelevant, and malformed lines
    with where they were (at most MAX_REPORTED_PROBLEMS are kept; `malformed` counts them all)."""

    lines: int = 0
    added: int = 0
    skipped: int = 0
    malformed: int = 0
    problems: list[str] = field(default_factory=list)
    # Usernames already made Tally users during this ingest: later batches link only the learners new to it.
    linked: pl.Series = field(
        default_factory=lambda: pl.Series("username", [], dtype=pl.String), repr=False, compare=False
    )

    def problem(self, where: str, reason: str) -> None:
        self.malformed += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(f"{where}: {reason}")


def malformed_reason(line: str) -> str:
    """Why a line that the vectorised parser could not read is malformed, in words for the report."""
    try:
        event = json_load(line, max_depth=JSON_MAX_DEPTH)
    except JSONSyntaxError:
        return "not JSON"
    except JSONError as exc:  # NaN, a NUL, a lone surrogate, nesting past any event's
        return f"cannot be stored: {exc}"
    if not isinstance(event, dict):
        return "not a JSON object"
    if not isinstance(event.get("event_type") or event.get("name"), str):
        return "no event_type"
    raw_time = event.get("time")
    # A time that is not ISO 8601, or that leaves the years 1 to 9999 once in UTC.
    return f"bad time {str(raw_time)[:40]!r}" if raw_time else "no time"


def _course_key(raw: str | None) -> str | None:
    try:
        return str(CourseKey.from_string(raw)) if raw else None
    except InvalidKeyError:
        return None


def _json(column: pl.Expr, path: str) -> pl.Expr:
    return column.str.json_path_match(path)


def _number(expr: pl.Expr) -> pl.Expr:
    number = expr.cast(pl.Float64, strict=False)
    return pl.when(number.is_finite() & (number.abs() < 1e9)).then(number).otherwise(None)


ENVELOPE = {"event_type": pl.String, "name": pl.String, "time": pl.String, "username": pl.String,
            "event_source": pl.String, "context": pl.Struct({"course_id": pl.String, "user_id": pl.Int64}),
            "event": pl.String}  # fmt: skip


def _envelopes(lines: pl.Series) -> pl.DataFrame:
    """The top-level fields of each line, `event` as JSON text. One native NDJSON parse of the batch when every
    line is a well-typed object (the usual case); otherwise one JSON path per field, which reads any line."""
    try:
        parsed = pl.read_ndjson(io.BytesIO(lines.str.join("\n").cast(pl.Binary).item()), schema=ENVELOPE)
    except pl.exceptions.PolarsError:
        parsed = None
    if parsed is not None and parsed.height == lines.len():
        context = pl.col("context")
        return parsed.with_columns(
            context_course=context.struct.field("course_id"), context_user=context.struct.field("user_id")
        ).drop("context")
    text = pl.col("text")
    return lines.to_frame("text").select(
        event_type=_json(text, "$.event_type"),
        name=_json(text, "$.name"),
        time=_json(text, "$.time"),
        username=_json(text, "$.username"),
        event_source=_json(text, "$.event_source"),
        event=_json(text, "$.event"),
        context_course=_json(text, "$.context.course_id"),
        context_user=_json(text, "$.context.user_id").cast(pl.Int64, strict=False),
    )


PAYLOAD_FIELDS = {"course_id": pl.String, "user_id": pl.Int64, "mode": pl.String, "id": pl.String,
                  "currentTime": pl.Float64, "old_time": pl.Float64, "new_time": pl.Float64, "duration": pl.Float64,
                  "problem_id": pl.String, "block_id": pl.String, "usage_key": pl.String, "success": pl.String,
                  "grade": pl.Float64, "max_grade": pl.Float64, "completion": pl.Float64}  # fmt: skip
PAYLOAD = pl.Struct({**PAYLOAD_FIELDS, "data": pl.Struct(PAYLOAD_FIELDS)})


def _payloads(events: pl.Series) -> pl.DataFrame:
    """The payload fields of each event, one column each, taken from `event.data` where newer events nest them and
    from `event` otherwise. One native decode when every JSON payload is well typed (the usual case); otherwise one
    JSON path per field, which reads anything. A payload that is not a JSON object (a browser query string) has
    none."""
    frame = events.to_frame("event").with_columns(
        event=pl.when(pl.col("event").str.starts_with("{")).then(pl.col("event"))
    )
    try:
        decoded = frame.select(payload=pl.col("event").str.json_decode(PAYLOAD))
    except pl.exceptions.PolarsError:
        decoded = None
    if decoded is not None:
        payload = pl.col("payload")
        data = payload.struct.field("data")
        return decoded.select(
            *[pl.coalesce(data.struct.field(name), payload.struct.field(name)).alias(name) for name in PAYLOAD_FIELDS]
        )
    event = pl.col("event")
    data = pl.coalesce(_json(event, "$.data"), event)
    return frame.select(
        *[_json(data, f"$.{name}").cast(dtype, strict=False).alias(name) for name, dtype in PAYLOAD_FIELDS.items()]
    )


def events_frame(lines: list[str] | pl.Series) -> pl.DataFrame:
    """Every stored field, extracted from raw tracking-log lines in vectorised passes.

    Columns: `line` (index in `lines`), `event_key` (SHA-256 of the line), `day`, the store's columns
    (`EVENT_SCHEMA`), and `problem` (null, or "skipped" for an event outside any course, or "malformed").
    """
    text = lines if isinstance(lines, pl.Series) else pl.Series(lines, dtype=pl.String)
    envelopes = _envelopes(text)
    frame = pl.concat([envelopes, _payloads(envelopes["event"])], how="horizontal").with_row_index("line")
    frame = frame.with_columns(
        event_type=pl.coalesce("event_type", "name"),
        time=pl.col("time").str.to_datetime(strict=False, time_zone="UTC"),
        username=pl.col("username").fill_null("").str.slice(0, 150),
        event_source=pl.col("event_source").fill_null("").str.slice(0, 32),
    )
    enrollment = pl.col("event_type").is_in(ENROLLMENT_EVENTS)
    video = pl.col("event_type").is_in(list(VIDEO_EVENTS))
    frame = frame.with_columns(
        raw_course=pl.coalesce("context_course", "course_id"),
        lms_user_id=pl.when(enrollment).then(pl.coalesce("user_id", "context_user")).otherwise(pl.col("context_user")),
        mode=pl.when(enrollment).then(pl.col("mode")).otherwise(None).fill_null("").str.slice(0, 64),
        video_id=pl.when(video).then(pl.col("id")).otherwise(None).fill_null("").str.slice(0, 255),
        video_position=pl.when(video).then(_number(pl.coalesce("currentTime", "old_time"))),
        video_new_position=pl.when(video).then(_number(pl.col("new_time"))),
        video_duration=pl.when(video).then(_number(pl.col("duration"))),
        block_id=pl.coalesce("problem_id", "block_id", "usage_key"),
        success=pl.col("success"),
        grade=_number(pl.col("grade")),
        max_grade=_number(pl.col("max_grade")),
        completion=_number(pl.col("completion")),
        event_type=pl.col("event_type").replace(VIDEO_EVENTS).str.slice(0, 255),
    ).drop("course_id")
    courses = {raw: _course_key(raw) for raw in frame["raw_course"].unique().to_list()}
    nul = text.str.contains(r"\u0000", literal=True)
    if nul.any():  # the escape's own backslash may be escaped: only then the slower exact pattern
        nul = text.str.contains(NUL_ESCAPE)
    readable = (
        pl.col("event_type").is_not_null()
        & pl.col("time").is_between(FIRST_MOMENT, LAST_MOMENT).fill_null(False)
        & ~pl.lit(nul)
    )
    return frame.with_columns(
        course_id=pl.col("raw_course").replace_strict(courses, default=None, return_dtype=pl.String),
        day=pl.col("time").dt.date(),
        # In native code, over the batch: hashlib's, line by line, held the GIL for a fifth of the parse.
        event_key=text.to_frame("line").select(polars_hash.col("line").chash.sha2_256())["line"],
    ).with_columns(
        problem=pl.when(~readable)
        .then(pl.lit("malformed"))
        .when(pl.col("course_id").is_null())
        .then(pl.lit("skipped"))
        .otherwise(None)
    )


def _learners_link(events: pl.DataFrame, linked: pl.Series) -> pl.Series:
    """Make sure every (username, LMS user id) seen, and not in `linked` yet, is a Tally user carrying that LMS id,
    in a few set statements over a staging table of them; returns `linked` with them.

    A new username becomes a user unless its LMS id is some user's already; an existing user without an LMS id
    gets it unless another user has it. Rows are written in username order (and updated in key order), so that
    two ingests linking the same learners take their row locks in the same order instead of deadlocking.
    """
    seen = (
        events.filter((pl.col("username") != "") & pl.col("lms_user_id").is_not_null())
        .select("username", "lms_user_id")
        .unique(subset="username", keep="last", maintain_order=True)
        .filter(~pl.col("username").is_in(linked.implode()))
        .unique(subset="lms_user_id", keep="last", maintain_order=True)  # an id is one user's; the next batch may retry
    )
    if seen.is_empty():
        return linked
    postgres = connection.vendor == "postgresql"
    users = get_user_model()._meta.db_table
    # Each new user's public id is made by the database, for the rows it inserts only: made in Python for every
    # learner staged, they were a third of the linking.
    public_id = "gen_random_uuid()" if postgres else SQLITE_UUID4
    with staging_table("learner_staging", "(username varchar(150), lms_user_id bigint)", frame=seen) as cursor:
        # `WHERE true` lets SQLite read ON CONFLICT as the upsert clause of an INSERT ... SELECT.
        cursor.execute(
            f"INSERT INTO {users} (password, is_superuser, username, first_name, last_name, email, is_staff, "
            "is_active, date_joined, public_id, lms_user_id) "
            f"SELECT %s, false, s.username, '', '', '', false, true, %s, {public_id}, s.lms_user_id "
            "FROM learner_staging s WHERE true "
            f"AND NOT EXISTS (SELECT 1 FROM {users} u WHERE u.username = s.username) "
            f"AND NOT EXISTS (SELECT 1 FROM {users} u WHERE u.lms_user_id = s.lms_user_id) "
            "ORDER BY s.username ON CONFLICT DO NOTHING",
            [make_password(None), connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        if postgres:  # the row locks of the update, taken in key order first
            cursor.execute(
                f"SELECT u.id FROM {users} u JOIN learner_staging s ON s.username = u.username "
                "WHERE u.lms_user_id IS NULL ORDER BY u.id FOR UPDATE OF u"
            )
        cursor.execute(
            f"UPDATE {users} SET lms_user_id = s.lms_user_id FROM learner_staging s "
            f"WHERE {users}.username = s.username AND {users}.lms_user_id IS NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {users} t WHERE t.lms_user_id = s.lms_user_id)"
        )
    return pl.concat([linked, seen["username"]])


def tracking_events_store(*, events: pl.DataFrame, report: IngestReport | None = None) -> int:
    """Store the course events of a parsed batch that are not stored yet and link their learners (those not in
    `report.linked`, the learners an ingest of several batches has linked already; the report keeps them);
    returns how many events were new.

    Idempotent on each event's key, checked against the partitions of the days the batch touches, one day at a
    time under that day's lock, so that concurrent ingests of the same day neither lose nor double an event. Each
    day's new events become one file of its partition, and the learner state from that day on is marked stale
    for the next rollup. Sends `tracking_events_stored` with the days that received new events.
    """
    if events.is_empty():
        return 0
    report = report or IngestReport()
    with transaction.atomic():
        report.linked = _learners_link(events, report.linked)
    added = 0
    enrollment_days, stored_days = [], []
    fresh = events.unique(subset="event_key", keep="first")
    for (day,), batch in sorted(fresh.partition_by("day", as_dict=True).items()):
        with day_lock(day):
            stored = events_scan(days=[day], columns=["event_key"]).collect()
            new = batch.join(stored, on="event_key", how="anti")
            if new.height:
                partition_append(day=day, frame=new.sort("course_id", "time"))
                stored_days.append(day)
        added += new.height
        if new.filter(pl.col("event_type").is_in(ENROLLMENT_EVENTS)).height:
            enrollment_days.append(day)
    if enrollment_days:
        # The carried learner state of these days and every later one no longer holds. Under the learner states'
        # lock, so that a build running now cannot mark those days computed without these events.
        with job_lock(kind=STATE_KIND, key="*"):
            LearnerStateDay.objects.filter(day__gte=min(enrollment_days)).delete()
    if added:
        tracking_events_stored.send(sender=tracking_events_store, days=stored_days)
    return added


@dataclass
class ParsedBatch:
    """A batch of lines as parsed, before anything is stored: the numbers of its over-long lines, and its parsed
    lines with their numbers and events (`events_frame`)."""

    too_long: list[int]
    lines: pl.Series
    numbers: list[int]
    events: pl.DataFrame | None


def _batch_parse(chunk: list[str], *, first_number: int, line_limit: int) -> ParsedBatch:
    """Stripped, measured, numbered (column-wise: a log has millions of lines) and parsed; touches no database."""
    batch = pl.DataFrame({"text": chunk}, schema={"text": pl.String}).select(
        pl.int_range(first_number, first_number + len(chunk)).alias("number"),
        pl.col("text").str.strip_chars(PYTHON_WHITESPACE),
    )
    too_long = batch.filter(pl.col("text").str.len_chars() > line_limit)["number"].to_list()
    batch = batch.filter((pl.col("text") != "") & (pl.col("text").str.len_chars() <= line_limit))
    lines = batch["text"]
    return ParsedBatch(
        too_long, lines, batch["number"].to_list(), events_frame(lines) if not lines.is_empty() else None
    )


def _batch_store(parsed: ParsedBatch, *, source: str, line_limit: int, report: IngestReport) -> None:
    for number in parsed.too_long:
        report.problem(f"{source}:{number}", f"longer than {line_limit} characters")
    if parsed.events is None:
        return
    frame = parsed.events
    for index in frame.filter(pl.col("problem") == "malformed")["line"].to_list():
        report.problem(f"{source}:{parsed.numbers[index]}", malformed_reason(parsed.lines[index]))
    report.skipped += frame.filter(pl.col("problem") == "skipped").height
    report.added += tracking_events_store(events=frame.filter(pl.col("problem").is_null()), report=report)


def tracking_lines_ingest(
    *,
    lines: Iterable[str],
    source: str,
    report: IngestReport | None = None,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> IngestReport:
    """Parse and store tracking-log lines in batches of `batch_size`, each batch stored whole before the next.

    Idempotent: an event's key is the SHA-256 of its line, so a line ingested again adds nothing. Malformed lines
    (and lines longer than settings.TRACKING_LINE_MAX_CHARS, which are not parsed) are counted and reported as
    `source:line`, never fatal; events outside any course are counted as skipped. The call is one entry of the audit
    log, with its counts.

    The next batch is parsed in a thread of its own while this one is stored (parsing is mostly polars, storing
    mostly Parquet writes and database round trips, both of which release the GIL); storing stays in this thread,
    one batch after the other, in order.
    """
    report = report or IngestReport()
    line_limit = settings.TRACKING_LINE_MAX_CHARS
    lines, read = iter(lines), 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-parse") as parser:
        pending: tuple[Future[ParsedBatch], int] | None = None
        while True:
            chunk = list(islice(lines, batch_size))
            parsing = (
                (parser.submit(_batch_parse, chunk, first_number=read + 1, line_limit=line_limit), len(chunk))
                if chunk
                else None
            )
            read += len(chunk)
            if pending is not None:
                future, count = pending
                _batch_store(future.result(), source=source, line_limit=line_limit, report=report)
                report.lines += count
                if progress:
                    progress(count)
            if parsing is None:
                break
            pending = parsing
    counts = {"lines": report.lines, "added": report.added, "skipped": report.skipped, "malformed": report.malformed}
    audit_log_batch(app_label="course_analytics", kind="trackingevent", source=source, counts=counts)
    return report


@contextmanager
def open_log(path: Path) -> Iterator[IO[str]]:
    """A tracking log as text lines, gzip or plain (decided by the file's magic bytes, not its name)."""
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    with gzip.open(path, "rb") if gzipped else path.open("rb") as raw:
        yield io.TextIOWrapper(raw, encoding="utf-8", errors="replace")


def tracking_files_ingest(
    *, paths: list[Path], progress: Callable[[int], None] | None = None, batch_size: int = BATCH_SIZE
) -> IngestReport:
    """Ingest tracking log files (plain or gzip) one after another into one report."""
    report = IngestReport()
    for path in paths:
        with open_log(path) as lines:
            tracking_lines_ingest(
                lines=lines, source=str(path), report=report, progress=progress, batch_size=batch_size
            )
    return report


def _profile_row(row: dict, where: str, report: IngestReport) -> LearnerProfile | None:
    try:
        lms_user_id = int(row["user_id"])
    except (TypeError, ValueError):
        report.problem(where, "user_id is not an integer")
        return None
    year = (row.get("year_of_birth") or "").strip()
    if year and not (year.isdigit() and 1900 <= int(year) <= 2100):
        report.problem(where, f"year_of_birth {year!r} is not a year")
        return None
    return LearnerProfile(
        lms_user_id=lms_user_id,
        year_of_birth=int(year) if year else None,
        level_of_education=(row.get("level_of_education") or "").strip()[:10],
        gender=(row.get("gender") or "").strip()[:10],
        country=(row.get("country") or "").strip().upper()[:3],
    )


@transaction.atomic
def learner_profiles_ingest(*, stream: IO[str], source: str) -> IngestReport:
    """Upsert profiles from a CSV with the header user_id,year_of_birth,level_of_education,gender,country.

    Idempotent on user_id: only new or changed profiles are written (`added` counts them), so a rerun adds nothing.
    A file without those columns adds nothing.
    """
    report = IngestReport()
    reader = csv.DictReader(stream)
    missing = set(PROFILE_COLUMNS) - set(reader.fieldnames or [])
    if missing:
        report.problem(f"{source}:1", f"missing columns: {', '.join(sorted(missing))}")
        return report
    profiles: dict[int, LearnerProfile] = {}
    for number, row in enumerate(reader, start=2):
        report.lines += 1
        profile = _profile_row(row, f"{source}:{number}", report)
        if profile is not None:
            profiles[profile.lms_user_id] = profile
    # The rollups' inputs change here: a rollup reading them holds this lock shared (see rollups._counts_carry_in).
    job_transaction_lock(kind=STATE_KIND, key="*")
    stored: dict[int, tuple] = {}
    for rows in id_lookups(LearnerProfile.objects.all(), lookup="lms_user_id__in", ids=profiles):
        stored.update((row[0], row[1:]) for row in rows.values_list("lms_user_id", *PROFILE_FIELDS))
    # Only new or changed profiles are written (each write sets `updated`), so that an export that changes nothing
    # leaves the rollups carrying their counts from day to day.
    changed = [
        profile
        for profile in profiles.values()
        if stored.get(profile.lms_user_id) != tuple(getattr(profile, name) for name in PROFILE_FIELDS)
    ]
    LearnerProfile.objects.bulk_create(
        changed,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["lms_user_id"],
        update_fields=[*PROFILE_FIELDS, "updated"],
    )
    report.added = len(changed)
    return report


def learner_profile_save(*, profile: LearnerProfile) -> LearnerProfile:
    """Save one profile (a staff edit), under the lock of the rollups' inputs."""
    with transaction.atomic():
        job_transaction_lock(kind=STATE_KIND, key="*")
        profile.save()
    return profile


def lines_of(body: bytes) -> Iterator[str]:
    """The events of a batch request body: a JSON array of events, or NDJSON (one event per line)."""
    text = body.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json_load(stripped)
        except JSONError:
            items = None
        if isinstance(items, list):
            # Each event of an array is keyed by its compact JSON with sorted keys.
            yield from (json.dumps(item, sort_keys=True, separators=(",", ":")) for item in items)
            return
    yield from text.splitlines()
