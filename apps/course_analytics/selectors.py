"""Reads behind the Analytics Data API v0 course endpoints: rows (model instances or dicts of plain values) that
the output serializers of `apps.course_analytics.api.serializers` shape for the wire.

Every list read takes [start, end) as datetimes (either may be None; the date columns compare on their day, as
the reference's do); with neither, it reads the latest day (or week) computed for the course. An empty result is
empty; the API turns that into a 404.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TypeVar

import polars as pl
from django.conf import settings
from django.db.models import Max, QuerySet
from django_countries import countries

from apps.common.versioned_cache import digest, shared_cached
from apps.course_analytics.eventstore import events_scan, partition_files
from apps.course_analytics.models import (
    UNKNOWN_COUNTRY,
    ActivityWeekly,
    EnrollmentBirthYearDaily,
    EnrollmentDaily,
    EnrollmentEducationDaily,
    EnrollmentGenderDaily,
    EnrollmentLocationDaily,
    EnrollmentModeDaily,
    VideoSummary,
)
from apps.course_analytics.versions import FIGURES_VERSION

T = TypeVar("T")

ACTIVITY_TYPES = ("any", "attempted_problem", "played_video", "posted_forum")
ENROLLMENT_MODES = ("audit", "credit", "honor", "professional", "verified", "masters")
MODE_FOLDS = {"no-id-professional": "professional"}
GENDERS = {"f": "female", "m": "male", "o": "other"}
GENDER_KEYS = ("female", "male", "other", "unknown")


def _daily(model, *, course_id: str, start: datetime | None, end: datetime | None) -> QuerySet:
    rows = model.objects.filter(course_id=course_id)
    if start is None and end is None:
        return rows.filter(date=rows.aggregate(latest=Max("date"))["latest"])
    if start is not None:
        rows = rows.filter(date__gte=start.date())
    if end is not None:
        rows = rows.filter(date__lt=end.date())
    return rows.order_by("date")


def _grouped_by_day(rows) -> dict:
    days = defaultdict(list)
    for row in rows:
        days[row.date].append(row)
    return dict(sorted(days.items()))


def _latest_created(rows) -> datetime:
    return max(row.created for row in rows)


def enrollment_list(*, course_id: str, start=None, end=None) -> QuerySet[EnrollmentDaily]:
    """Learners enrolled at the end of each day."""
    return _daily(EnrollmentDaily, course_id=course_id, start=start, end=end)


def enrollment_mode_list(*, course_id: str, start=None, end=None) -> list[dict]:
    """One object per day with every mode zero-filled; no-id-professional counts as professional; other modes add
    to the totals only."""
    result = []
    for day, rows in _grouped_by_day(_daily(EnrollmentModeDaily, course_id=course_id, start=start, end=end)).items():
        by_mode = dict.fromkeys(ENROLLMENT_MODES, 0)
        for row in rows:
            mode = MODE_FOLDS.get(row.mode, row.mode)
            if mode in by_mode:
                by_mode[mode] += row.count
        result.append(
            {
                "course_id": course_id,
                "date": day,
                "count": sum(r.count for r in rows),
                "cumulative_count": sum(r.cumulative_count for r in rows),
                "created": _latest_created(rows),
                **by_mode,
            }
        )
    return result


def enrollment_gender_list(*, course_id: str, start=None, end=None) -> list[dict]:
    """One object per day: female, male, other, and unknown (no code, or any other code), zero-filled."""
    result = []
    for day, rows in _grouped_by_day(_daily(EnrollmentGenderDaily, course_id=course_id, start=start, end=end)).items():
        by_gender = dict.fromkeys(GENDER_KEYS, 0)
        for row in rows:
            by_gender[GENDERS.get(row.gender or "", "unknown")] += row.count
        result.append({"course_id": course_id, "date": day, **by_gender, "created": _latest_created(rows)})
    return result


def enrollment_birth_year_list(*, course_id: str, start=None, end=None) -> QuerySet[EnrollmentBirthYearDaily]:
    return _daily(EnrollmentBirthYearDaily, course_id=course_id, start=start, end=end).order_by("date", "birth_year")


def enrollment_education_list(*, course_id: str, start=None, end=None) -> QuerySet[EnrollmentEducationDaily]:
    return _daily(EnrollmentEducationDaily, course_id=course_id, start=start, end=end).order_by(
        "date", "education_level"
    )


def _country(code: str) -> dict:
    if code == UNKNOWN_COUNTRY or not countries.name(code):
        return {"alpha2": None, "alpha3": None, "name": UNKNOWN_COUNTRY}
    return {"alpha2": code, "alpha3": countries.alpha3(code), "name": countries.name(code)}


def enrollment_location_list(*, course_id: str, start=None, end=None) -> list[dict]:
    """One entry per (country, day), unknown countries summed into one UNKNOWN entry; UNKNOWN first, then by
    alpha-2, then by day."""
    totals: dict[tuple, dict] = {}
    for row in _daily(EnrollmentLocationDaily, course_id=course_id, start=start, end=end):
        country = _country(row.country_code)
        key = (country["alpha2"] or "", row.date)
        entry = totals.setdefault(
            key,
            {
                "date": row.date,
                "course_id": course_id,
                "country": country,
                "count": 0,
                "created": row.created,
            },
        )
        entry["count"] += row.count
        entry["created"] = max(entry["created"], row.created)
    return [entry for _, entry in sorted(totals.items())]


def _weeks(*, course_id: str, start: datetime | None, end: datetime | None) -> QuerySet:
    rows = ActivityWeekly.objects.filter(course_id=course_id)
    if start is None and end is None:
        return rows.filter(interval_end=rows.aggregate(latest=Max("interval_end"))["latest"])
    if start is not None:
        rows = rows.filter(interval_start__gte=start)
    if end is not None:
        rows = rows.filter(interval_end__lt=end)
    return rows


def activity_list(*, course_id: str, start=None, end=None) -> list[dict]:
    """One dict per week: distinct learners per activity type; a type with no row is left out, not zero (the
    serializer keeps the types of ACTIVITY_TYPES only)."""
    weeks: dict[tuple, dict] = {}
    for row in _weeks(course_id=course_id, start=start, end=end).order_by("interval_start", "activity_type"):
        week = weeks.setdefault(
            (row.interval_start, row.interval_end),
            {
                "interval_start": row.interval_start,
                "interval_end": row.interval_end,
                "course_id": course_id,
                "created": row.created,
            },
        )
        week[row.activity_type] = row.count
        week["created"] = max(week["created"], row.created)
    return list(weeks.values())


def recent_activity_get(*, course_id: str, activity_type: str) -> dict | None:
    """The latest computed week's count of one activity type, or None when there is none."""
    row = (
        ActivityWeekly.objects.filter(course_id=course_id, activity_type=activity_type)
        .order_by("-interval_end")
        .first()
    )
    if row is None:
        return None
    return {
        "interval_start": row.interval_start,
        "interval_end": row.interval_end,
        "activity_type": activity_type,
        "count": row.count,
        "course_id": course_id,
    }


def video_list(*, course_id: str, start=None, end=None) -> QuerySet[VideoSummary]:
    """Every video of the course; not filtered by date (the summaries cover all viewings so far)."""
    return VideoSummary.objects.filter(course_id=course_id).order_by("encoded_module_id")


def tracking_events_scan(
    *, days: Iterable[date] | None = None, course_ids: Iterable[str] | None = None, columns: Iterable[str] | None = None
) -> pl.LazyFrame:
    """The stored tracking events as a lazy polars scan: only the partitions of `days` (every day when None), only
    `columns` (any of `EVENT_SCHEMA`; all when None) plus `day`, and only `course_ids` when given.

    Columns: event_key, time, course_id, lms_user_id, username, event_type, event_source, mode (enrollment),
    video_id / video_position / video_new_position / video_duration (video events), block_id (the usage id of a
    problem or completion event), success / grade / max_grade (problem checks), completion (completion events).
    """
    chosen = None if columns is None else list(columns)
    if course_ids is None:
        return events_scan(days=days, columns=chosen)
    with_course = chosen if chosen is None or "course_id" in chosen else [*chosen, "course_id"]
    scan = events_scan(days=days, columns=with_course).filter(pl.col("course_id").is_in(list(course_ids)))
    return scan if with_course == chosen else scan.drop("course_id")


def tracking_events_days() -> list[date]:
    """The UTC days that have stored tracking events, oldest first."""
    return sorted(partition_files())


def tracking_events_day_list(
    *, day: date, course_id: str = "", event_type: str = "", limit: int
) -> tuple[int, list[dict]]:
    """A day's stored events for staff, oldest first: how many match, and the first `limit` of them."""
    events = tracking_events_scan(days=[day])
    if course_id:
        events = events.filter(pl.col("course_id") == course_id)
    if event_type:
        events = events.filter(pl.col("event_type") == event_type)
    matching = events.sort("time", "event_key").collect()
    return matching.height, matching.head(limit).to_dicts()


def tracking_events_count() -> int:
    """How many tracking events are stored, over every day (reads only the key column of the day files)."""
    return tracking_events_scan(columns=["event_key"]).select(pl.len()).collect().item()


def figures_cached(*, key: str, compute: Callable[[], T]) -> T:
    """`compute()` of the v0 figures that `key` names: with a cache every process shares, computed once until a
    rollup (or any write of this app's rows) commits (FIGURES_VERSION; ANALYTICS_CACHE_SECONDS at most)."""
    return shared_cached(
        key=f"course_analytics:v0:{digest(key)}",
        versions=[FIGURES_VERSION],
        compute=compute,
        timeout=settings.ANALYTICS_CACHE_SECONDS,
    )
