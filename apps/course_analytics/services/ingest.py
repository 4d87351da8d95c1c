"""Ingest of Open edX tracking logs and learner profiles. Both are idempotent: events are keyed by the SHA-256 of
their line, profiles by the LMS user id."""

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from apps.course_analytics.models import LearnerProfile, TrackingEvent

BATCH_SIZE = 5000
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


class MalformedLine(ValueError):
    pass


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


def _payload(raw: Any) -> dict:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str) and raw.startswith("{"):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _course_id(*candidates: Any) -> str | None:
    for candidate in candidates:
        if isinstance(candidate, str) and candidate:
            try:
                return str(CourseKey.from_string(candidate))
            except InvalidKeyError:
                continue
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) < 1e9 else None  # NaN and absurd values are no position


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _time(raw: Any) -> datetime:
    if not isinstance(raw, str):
        raise MalformedLine("no time")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedLine(f"bad time {raw[:40]!r}") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def event_from_line(line: str) -> dict | None:
    """The TrackingEvent fields of one log line; None for an event outside any course; MalformedLine if unreadable."""
    try:
        event = json.loads(line)
    except ValueError as exc:
        raise MalformedLine("not JSON") from exc
    if not isinstance(event, dict):
        raise MalformedLine("not a JSON object")
    event_type = event.get("event_type") or event.get("name")
    if not isinstance(event_type, str) or not event_type:
        raise MalformedLine("no event_type")
    moment = _time(event.get("time"))
    context = event.get("context") if isinstance(event.get("context"), dict) else {}
    payload = _payload(event.get("event"))
    data = payload.get("data") if isinstance(payload.get("data"), dict) else payload
    course_id = _course_id(context.get("course_id"), data.get("course_id"))
    if course_id is None:
        return None
    fields = {
        # Keyed by the event's canonical JSON, so that the same event from a file or a batch request is one event.
        "event_key": hashlib.sha256(json.dumps(event, sort_keys=True, separators=(",", ":")).encode()).hexdigest(),
        "time": moment,
        "day": moment.date(),
        "course_id": course_id,
        "lms_user_id": _int(context.get("user_id")),
        "username": str(event.get("username") or "")[:150],
        "event_type": event_type[:255],
        "event_source": str(event.get("event_source") or "")[:32],
    }
    if event_type in ENROLLMENT_EVENTS:
        fields["lms_user_id"] = _int(data.get("user_id")) or fields["lms_user_id"]
        fields["mode"] = str(data.get("mode") or "")[:64]
    elif event_type in VIDEO_EVENTS:
        fields["event_type"] = VIDEO_EVENTS[event_type]
        fields["video_id"] = str(payload.get("id") or "")[:255]
        fields["video_position"] = _number(payload.get("currentTime", payload.get("old_time")))
        fields["video_new_position"] = _number(payload.get("new_time"))
        fields["video_duration"] = _number(payload.get("duration"))
    return fields


def _learners_link(events: list[dict]) -> None:
    """Make sure every (username, LMS user id) seen is a Tally user carrying that LMS id, in a few set queries."""
    user_model = get_user_model()
    seen = {e["username"]: e["lms_user_id"] for e in events if e["username"] and e["lms_user_id"] is not None}
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
    for username, lms_id in seen.items():
        if username in existing and existing[username] is None and lms_id not in taken:
            user_model.objects.filter(username=username, lms_user_id__isnull=True).update(lms_user_id=lms_id)


@transaction.atomic
def tracking_events_store(*, events: list[dict]) -> int:
    """Store parsed events that are not stored yet and link their learners; returns how many were new."""
    keys = [event["event_key"] for event in events]
    known = set(TrackingEvent.objects.filter(event_key__in=keys).values_list("event_key", flat=True))
    fresh = {event["event_key"]: event for event in events if event["event_key"] not in known}
    _learners_link(list(fresh.values()))
    TrackingEvent.objects.bulk_create((TrackingEvent(**event) for event in fresh.values()), ignore_conflicts=True)
    return len(fresh)


def tracking_lines_ingest(
    *,
    lines: Iterable[str],
    source: str,
    report: IngestReport | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Parse and store tracking-log lines in batches of BATCH_SIZE, each batch in its own transaction.

    Idempotent on each line's content. Malformed lines are counted and reported as `source:line`, never fatal.
    """
    report = report or IngestReport()
    batch: list[dict] = []
    for number, line in enumerate(lines, start=1):
        report.lines += 1
        text = line.strip()
        if not text:
            continue
        try:
            fields = event_from_line(text)
        except MalformedLine as exc:
            report.problem(f"{source}:{number}", str(exc))
            continue
        if fields is None:
            report.skipped += 1
        else:
            batch.append(fields)
        if len(batch) >= BATCH_SIZE:
            report.added += tracking_events_store(events=batch)
            batch = []
        if progress and number % BATCH_SIZE == 0:
            progress(BATCH_SIZE)
    if batch:
        report.added += tracking_events_store(events=batch)
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
            yield from (json.dumps(item) for item in items)
            return
    yield from text.splitlines()
