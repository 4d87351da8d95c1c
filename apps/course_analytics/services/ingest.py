"""Ingest of Open edX tracking logs and learner profiles. Both are idempotent: events are keyed by the SHA-256 of
their line, profiles by the LMS user id. Lines are parsed in batches by polars (JSON paths, vectorised), not one by
one in Python."""

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import polars as pl
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from apps.common.audit import audit_log_batch
from apps.common.frames import frame_insert
from apps.course_analytics.models import LearnerProfile, TrackingEvent

BATCH_SIZE = 50_000
MAX_REPORTED_PROBLEMS = 100
ENROLLMENT_EVENTS = ("edx.course.enrollment.activated", "edx.course.enrollment.deactivated",
                     "edx.course.enrollment.mode_changed")  # fmt: skip
# Legacy names are what the reference pipeline reads; newer platforms emit the edx.video.* names for the same acts.
VIDEO_EVENTS = {
    "play_video": "play_video", "pause_video": "pause_video", "seek_video": "seek_video", "stop_video": "stop_video",
    "edx.video.played": "play_video", "edx.video.paused": "pause_video", "edx.video.position.changed": "seek_video",
    "edx.video.stopped": "stop_video",
}  # fmt: skip
PROFILE_COLUMNS = ("user_id", "year_of_birth", "level_of_education", "gender", "country")


@dataclass
class IngestReport:
    """What an ingest did: lines read, events added (new keys), lines skipped as irrelevant, and malformed lines
    with where they were (at most MAX_REPORTED_PROBLEMS are kept; `malformed` counts them all)."""

    lines: int = 0
    added: int = 0
    skipped: int = 0
    malformed: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, where: str, reason: str) -> None:
        self.malformed += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(f"{where}: {reason}")


def malformed_reason(line: str) -> str:
    """Why a line that the vectorised parser could not read is malformed, in words for the report."""
    try:
        event = json.loads(line)
    except ValueError:
        return "not JSON"
    if not isinstance(event, dict):
        return "not a JSON object"
    if not isinstance(event.get("event_type") or event.get("name"), str):
        return "no event_type"
    raw_time = event.get("time")
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


def events_frame(lines: list[str]) -> pl.DataFrame:
    """Every field the rollups read, extracted from raw tracking-log lines in one vectorised pass.

    Columns: `line` (index in `lines`), `event_key` (SHA-256 of the line), the TrackingEvent fields, and `problem`
    (null, or "skipped" for an event outside any course, or "malformed").
    """
    frame = pl.DataFrame({"text": lines}).with_row_index("line")
    text = pl.col("text")
    event = pl.col("event")
    payload_data = _json(event, "$.data")
    frame = frame.with_columns(
        event_type=pl.coalesce(_json(text, "$.event_type"), _json(text, "$.name")),
        time=_json(text, "$.time").str.to_datetime(strict=False, time_zone="UTC"),
        username=_json(text, "$.username").fill_null("").str.slice(0, 150),
        event_source=_json(text, "$.event_source").fill_null("").str.slice(0, 32),
        context_course=_json(text, "$.context.course_id"),
        context_user=_json(text, "$.context.user_id").cast(pl.Int64, strict=False),
        event=_json(text, "$.event"),
    ).with_columns(
        data=pl.coalesce(payload_data, event),
    )
    data = pl.col("data")
    enrollment = pl.col("event_type").is_in(ENROLLMENT_EVENTS)
    video = pl.col("event_type").is_in(list(VIDEO_EVENTS))
    frame = frame.with_columns(
        raw_course=pl.coalesce(pl.col("context_course"), _json(data, "$.course_id")),
        lms_user_id=pl.when(enrollment)
        .then(pl.coalesce(_json(data, "$.user_id").cast(pl.Int64, strict=False), pl.col("context_user")))
        .otherwise(pl.col("context_user")),
        mode=pl.when(enrollment).then(_json(data, "$.mode")).otherwise(None).fill_null("").str.slice(0, 64),
        video_id=pl.when(video).then(_json(event, "$.id")).otherwise(None).fill_null("").str.slice(0, 255),
        video_position=pl.when(video).then(
            _number(pl.coalesce(_json(event, "$.currentTime"), _json(event, "$.old_time")))
        ),
        video_new_position=pl.when(video).then(_number(_json(event, "$.new_time"))),
        video_duration=pl.when(video).then(_number(_json(event, "$.duration"))),
        event_type=pl.col("event_type").replace(VIDEO_EVENTS).str.slice(0, 255),
    )
    courses = {raw: _course_key(raw) for raw in frame["raw_course"].unique().to_list()}
    readable = pl.col("event_type").is_not_null() & pl.col("time").is_not_null()
    return frame.with_columns(
        course_id=pl.col("raw_course").replace_strict(courses, default=None, return_dtype=pl.String),
        day=pl.col("time").dt.date(),
        event_key=pl.Series([hashlib.sha256(line.encode()).hexdigest() for line in lines]),
    ).with_columns(
        problem=pl.when(~readable)
        .then(pl.lit("malformed"))
        .when(pl.col("course_id").is_null())
        .then(pl.lit("skipped"))
        .otherwise(None)
    )


def _learners_link(events: pl.DataFrame) -> None:
    """Make sure every (username, LMS user id) seen is a Tally user carrying that LMS id, in a few set queries."""
    user_model = get_user_model()
    pairs = events.filter((pl.col("username") != "") & pl.col("lms_user_id").is_not_null())
    seen = dict(pairs.select("username", "lms_user_id").unique(subset="username", keep="last").iter_rows())
    if not seen:
        return
    existing = dict(user_model.objects.filter(username__in=seen).values_list("username", "lms_user_id"))
    taken = set(user_model.objects.filter(lms_user_id__in=seen.values()).values_list("lms_user_id", flat=True))
    unusable = make_password(None)
    new_users = [
        user_model(username=username, lms_user_id=lms_id, password=unusable)
        for username, lms_id in seen.items()
        if username not in existing and lms_id not in taken
    ]
    user_model.objects.bulk_create(new_users, ignore_conflicts=True)
    unlinked = list(user_model.objects.filter(username__in=seen, lms_user_id__isnull=True))
    for user in unlinked:
        user.lms_user_id = seen[user.username] if seen[user.username] not in taken else None
    user_model.objects.bulk_update([user for user in unlinked if user.lms_user_id is not None], ["lms_user_id"])


STORED_COLUMNS = ("event_key", "time", "day", "course_id", "lms_user_id", "username", "event_type", "event_source",
                  "mode", "video_id", "video_position", "video_new_position", "video_duration")  # fmt: skip


@transaction.atomic
def tracking_events_store(*, events: pl.DataFrame) -> int:
    """Store the course events of a parsed batch that are not stored yet and link their learners; returns how
    many were new. Idempotent on each event's key."""
    if events.is_empty():
        return 0
    _learners_link(events)
    fresh = events.unique(subset="event_key", keep="first").select(STORED_COLUMNS)
    return frame_insert(table=TrackingEvent._meta.db_table, frame=fresh, ignore_conflicts=True)


def _ingest_batch(lines: list[str], numbers: list[int], source: str, report: IngestReport) -> None:
    frame = events_frame(lines)
    for index in frame.filter(pl.col("problem") == "malformed")["line"].to_list():
        report.problem(f"{source}:{numbers[index]}", malformed_reason(lines[index]))
    report.skipped += frame.filter(pl.col("problem") == "skipped").height
    report.added += tracking_events_store(events=frame.filter(pl.col("problem").is_null()))


def tracking_lines_ingest(
    *,
    lines: Iterable[str],
    source: str,
    report: IngestReport | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Parse and store tracking-log lines in batches of BATCH_SIZE, each batch in its own transaction.

    Idempotent: an event's key is the SHA-256 of its line, so a line ingested again adds nothing. Malformed lines
    are counted and reported as `source:line`, never fatal; events outside any course are counted as skipped.
    The call is one entry of the audit log, with its counts.
    """
    report = report or IngestReport()
    batch: list[str] = []
    numbers: list[int] = []
    for number, line in enumerate(lines, start=1):
        report.lines += 1
        text = line.strip()
        if text:
            batch.append(text)
            numbers.append(number)
        if len(batch) >= BATCH_SIZE:
            _ingest_batch(batch, numbers, source, report)
            if progress:
                progress(len(batch))
            batch, numbers = [], []
    if batch:
        _ingest_batch(batch, numbers, source, report)
        if progress:
            progress(len(batch))
    counts = {"lines": report.lines, "added": report.added, "skipped": report.skipped, "malformed": report.malformed}
    audit_log_batch(model=TrackingEvent, source=source, counts=counts)
    return report


@contextmanager
def open_log(path: Path) -> Iterator[IO[str]]:
    """A tracking log as text lines, gzip or plain (decided by the file's magic bytes, not its name)."""
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    with gzip.open(path, "rb") if gzipped else path.open("rb") as raw:
        yield io.TextIOWrapper(raw, encoding="utf-8", errors="replace")


def tracking_files_ingest(*, paths: list[Path], progress: Callable[[int], None] | None = None) -> IngestReport:
    """Ingest tracking log files (plain or gzip) one after another into one report."""
    report = IngestReport()
    for path in paths:
        with open_log(path) as lines:
            tracking_lines_ingest(lines=lines, source=str(path), report=report, progress=progress)
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

    Idempotent on user_id: a rerun rewrites the same rows. A file without those columns adds nothing.
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
    LearnerProfile.objects.bulk_create(
        profiles.values(),
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["lms_user_id"],
        update_fields=["year_of_birth", "level_of_education", "gender", "country"],
    )
    report.added = len(profiles)
    return report


def lines_of(body: bytes) -> Iterator[str]:
    """The events of a batch request body: a JSON array of events, or NDJSON (one event per line)."""
    text = body.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except ValueError:
            items = None
        if isinstance(items, list):
            # Each event of an array is keyed by its compact JSON with sorted keys.
            yield from (json.dumps(item, sort_keys=True, separators=(",", ":")) for item in items)
            return
    yield from text.splitlines()
