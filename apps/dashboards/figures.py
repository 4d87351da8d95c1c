"""The course page's figures: each names the course_analytics selector that the v0 API serves (so its CSV is the
API's CSV) and how its rows become a chart. A chart is a plain spec (type, labels, datasets) that
static/dashboards/dashboards.js hands to Chart.js, and that the page also prints as a table.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apps.course_analytics import selectors
from apps.course_analytics.api.urls import COURSE_ENDPOINTS

UNKNOWN = "unknown"


def chart(kind: str, axis: str, labels: list, datasets: dict[str, list], colors: dict | None = None, **options) -> dict:
    """A chart spec: `axis` names the labels' column in the table; datasets map a series name to its values;
    `colors` fixes some series' colours (Chart.js picks the others)."""
    colors = colors or {}
    return {
        "type": kind,
        "axis": axis,
        "labels": [UNKNOWN if label is None else label for label in labels],
        "datasets": [
            {"label": name, "data": values, **({"backgroundColor": colors[name]} if name in colors else {})}
            for name, values in datasets.items()
        ],
        **options,
    }


def _series(rows: list[dict], names) -> dict[str, list]:
    """Per name, its value in each row, for the names that are non-zero in some row."""
    return {name: [row.get(name, 0) for row in rows] for name in names if any(row.get(name) for row in rows)}


def _last_day(rows: list[dict]) -> list[dict]:
    last = max(row["date"] for row in rows)
    return [row for row in rows if row["date"] == last]


def _enrollment(rows):
    return chart("line", "date", [r["date"] for r in rows], {"enrolled": [r["count"] for r in rows]})


def _by_mode(rows):
    return chart("bar", "date", [r["date"] for r in rows], _series(rows, selectors.ENROLLMENT_MODES), stacked=True)


def _cumulative(rows):
    return chart("line", "date", [r["date"] for r in rows], {"ever enrolled": [r["cumulative_count"] for r in rows]})


def _activity(rows):
    labels = [r["interval_start"][:10] for r in rows]
    return chart("bar", "week from", labels, _series(rows, selectors.ACTIVITY_TYPES))


def _breakdown(field: str, kind: str = "bar") -> Callable[[list[dict]], dict]:
    def build(rows):
        day = _last_day(rows)
        return chart(kind, field.replace("_", " "), [r[field] for r in day], {"enrolled": [r["count"] for r in day]})

    return build


def _gender(rows):
    [day] = _last_day(rows)
    genders = list(selectors.GENDER_KEYS)
    return chart("doughnut", "gender", genders, {"enrolled": [day[gender] for gender in genders]})


def _location(rows):
    day = sorted(_last_day(rows), key=lambda r: (-r["count"], r["country"]["name"]))
    labels = [r["country"]["name"] for r in day]
    return chart("bar", "country", labels, {"enrolled": [r["count"] for r in day]}, horizontal=True)


def _videos(rows):
    labels = [r["encoded_module_id"].rpartition("@")[2] for r in rows]
    viewers = {"at start": [r["users_at_start"] for r in rows], "at end": [r["users_at_end"] for r in rows]}
    return chart("bar", "video", labels, viewers)


@dataclass(frozen=True)
class CourseFigure:
    slug: str
    title: str
    endpoint: str  # the v0 course endpoint (COURSE_ENDPOINTS) whose rows the figure draws
    build: Callable[[list[dict]], dict]
    note: str = ""

    def rows(self, *, course_id: str, start: datetime, end: datetime) -> list[dict]:
        """The endpoint's rows over [start, end), as its output serializer puts them on the wire."""
        view = COURSE_ENDPOINTS[self.endpoint]
        return view.serializer_class(view.selector(course_id=course_id, start=start, end=end), many=True).data


LAST_DAY = "Enrolled learners on the window's last day; the CSV has every day."

COURSE_FIGURES = (
    CourseFigure("enrollment", "Daily enrollment", "enrollment", _enrollment,
                 "Learners enrolled at the end of each day (UTC)."),
    CourseFigure("enrollment_mode", "Daily enrollment by mode", "enrollment/mode", _by_mode,
                 "Stacked: each day's enrolled learners split by enrollment mode."),
    CourseFigure("cumulative", "Cumulative enrollment", "enrollment/mode", _cumulative,
                 "Learners who ever enrolled, up to each day. The CSV is the enrollment-by-mode one."),
    CourseFigure("activity", "Weekly activity by type", "activity", _activity,
                 "Distinct learners per ISO week (Monday to Monday, UTC) and activity type."),
    CourseFigure("birth_year", "Birth year", "enrollment/birth_year", _breakdown("birth_year"), LAST_DAY),
    CourseFigure("education", "Education", "enrollment/education", _breakdown("education_level"),
                 LAST_DAY),
    CourseFigure("gender", "Gender", "enrollment/gender", _gender, LAST_DAY),
    CourseFigure("location", "Location", "enrollment/location", _location,
                 f"{LAST_DAY} Most first."),
    CourseFigure("videos", "Video retention", "videos", _videos,
                 "Viewers at each video's start and near its end, over all viewings so far (not windowed)."),
)  # fmt: skip
FIGURES_BY_SLUG = {figure.slug: figure for figure in COURSE_FIGURES}
