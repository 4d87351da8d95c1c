"""Validation of Data API requests for "sessions-summary-by-group" datasets.

Errors are `ServiceError`s whose code says what is wrong, as the Learnosity dialect reports it: `missing` (a
mandatory parameter is absent), `type` (a parameter of the wrong JSON type), `too_many` (a list too long) and
`invalid` (a value out of range).
"""

import re
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from apps.common.exceptions import ServiceError
from apps.datasets.models import DATASET_TYPE

MAX_FILE_COUNT = 100
MAX_LEVELS = 10
MAX_GROUP_PATHS = 1000
DEFAULT_ROWS_PER_PAGE = 1000
MAX_ROWS_PER_PAGE = 10_000
# A line of the NDJSON that datasets read (membership uploads, session ingest): ample for 50 session ids and 10 group
# names, and it keeps one line from holding a whole upload.
MAX_LINE_BYTES = 64 * 1024
SORT_ORDERS = ("asc", "desc")
PERCENTILE_FIELD = re.compile(r"^p(0[1-9]|[1-9][0-9])_(score|percent)$")
GROUP_FIELDS = (
    "group_count",
    "population",
    "lowest_score",
    "highest_score",
    "mean_seen_activities",
    "mean_attempted_percent",
    "mean_score",
    "median_score",
    "stddev_score",
    "lowest_percent",
    "highest_percent",
    "mean_percent",
    "median_percent",
    "stddev_percent",
)
# The reference's example list: what a dataset computes when `options.fields` is not given.
DEFAULT_FIELDS = [*GROUP_FIELDS[:8], "p25_score", "p75_score", "p90_score", *GROUP_FIELDS[8:12]]
DEFAULT_FIELDS += ["p25_percent", "p75_percent", "p90_percent", "stddev_percent"]
USER_FIELDS = ("score", "attempted_max_score", "unscored_max_score", "max_score", "seen_activities", "percent")
DEFAULT_USER_FIELDS = list(USER_FIELDS[:5])


@dataclass(frozen=True)
class DatasetSpec:
    """A validated `set /reports/datasets` request."""

    dataset_id: str
    file_count: int
    mintime: str | None
    maxtime: str | None
    fields: list[str]
    sort_field: str
    sort_order: str
    user_fields: list[str]
    users_sort_field: str
    users_sort_order: str
    groups: list[dict[str, str]]
    rows_per_page: int
    group_source: str | None

    def stored(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("dataset_id", "file_count", "group_source")}


def _required(data: dict, name: str, kind: type | tuple[type, ...], *, where: str = ""):
    if name not in data or data[name] is None:
        raise ServiceError(f"Missing mandatory parameter: {where}{name}", code="missing", field=where + name)
    return _typed(data[name], kind, where + name)


def _typed(value, kind: type | tuple[type, ...], name: str):
    # bool is an int in Python, never in JSON
    if not isinstance(value, kind) or (
        isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,))
    ):
        raise ServiceError(f"Invalid parameter type: {name}", code="type", field=name)
    return value


def _invalid(name: str, why: str) -> ServiceError:
    return ServiceError(f"Invalid parameter value: {name} {why}", code="invalid", field=name)


def dataset_type_check(data: dict) -> None:
    if _required(data, "dataset_type", str) != DATASET_TYPE:
        raise _invalid("dataset_type", f"must be {DATASET_TYPE}")


def dataset_id_parse(data: dict) -> str:
    raw = _required(data, "dataset_id", str)
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise _invalid("dataset_id", "must be a UUID") from None


def moment_parse(value, name: str) -> str:
    """An RFC 3339 date-time or a unix timestamp (number or digits), as an ISO string in UTC."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ServiceError(f"Invalid parameter type: {name}", code="type", field=name)
    try:
        if isinstance(value, int | float) or re.fullmatch(r"\d{1,12}(\.\d+)?", value):
            moment = datetime.fromtimestamp(float(value), tz=UTC)
        elif re.fullmatch(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)", value):
            moment = datetime.fromisoformat(value.replace("z", "Z")).astimezone(UTC)
        else:
            raise ValueError(value)
    except (ValueError, OverflowError, OSError):
        raise _invalid(name, "must be an RFC 3339 date-time or a unix timestamp") from None
    return moment.isoformat()


def _string_list(value, name: str) -> list[str]:
    _typed(value, list, name)
    if not value or not all(isinstance(item, str) and item for item in value):
        raise _invalid(name, "must be a non-empty list of non-empty strings")
    if len(set(value)) != len(value):
        raise _invalid(name, "must not repeat a value")
    return value


def _sort(options: dict, field_key: str, order_key: str, allowed: list[str], default: str) -> tuple[str, str]:
    field = _typed(options.get(field_key, default), str, f"options.{field_key}")
    if field not in allowed:
        raise _invalid(f"options.{field_key}", "must be one of the fields asked for")
    order = _typed(options.get(order_key, "desc"), str, f"options.{order_key}")
    if order not in SORT_ORDERS:
        raise _invalid(f"options.{order_key}", "must be asc or desc")
    return field, order


def _groups(value) -> list[dict[str, str]]:
    _typed(value, list, "groups")
    if not value:
        raise _invalid("groups", "must name at least one level")
    if len(value) > MAX_LEVELS:
        raise ServiceError(
            f"Too many parameters passed: groups (at most {MAX_LEVELS})", code="too_many", field="groups"
        )
    levels = []
    for position, level in enumerate(value):
        where = f"groups[{position}]."
        _typed(level, dict, f"groups[{position}]")
        key, label = _required(level, "key", str, where=where), _required(level, "label", str, where=where)
        if not key.strip() or not label.strip():
            raise _invalid(f"groups[{position}]", "key and label must not be blank")
        levels.append({"key": key, "label": label})
    if len({level["key"] for level in levels}) != len(levels):
        raise _invalid("groups", "keys must differ")
    return levels


def dataset_spec_parse(data: dict) -> DatasetSpec:
    """The validated request of `set /reports/datasets`; a ServiceError naming the first faulty parameter."""
    dataset_type_check(data)
    dataset_id = dataset_id_parse(data)
    group_source = data.get("group_source")
    if group_source is not None:
        try:
            group_source = str(uuid.UUID(_typed(group_source, str, "group_source")))
        except ValueError:
            raise _invalid("group_source", "must be a group's UUID") from None
    file_count = _typed(data.get("file_count", 0 if group_source else 1), int, "file_count")
    if not 0 <= file_count <= MAX_FILE_COUNT:
        raise _invalid("file_count", f"must be between 0 and {MAX_FILE_COUNT}")
    if group_source and file_count:
        raise _invalid("file_count", "must be 0 for a dataset built from group_source")
    filters = _typed(data.get("filters", {}), dict, "filters")
    mintime, maxtime = (
        moment_parse(filters[name], f"filters.{name}") if filters.get(name) is not None else None
        for name in ("mintime", "maxtime")
    )
    if mintime and maxtime and mintime > maxtime:
        raise _invalid("filters.maxtime", "must not be before filters.mintime")
    options = _typed(data.get("options", {}), dict, "options")
    fields = _string_list(options.get("fields", DEFAULT_FIELDS), "options.fields")
    unknown = [field for field in fields if field not in GROUP_FIELDS and not PERCENTILE_FIELD.match(field)]
    if unknown:
        raise _invalid("options.fields", f"has unknown fields: {', '.join(unknown)}")
    user_fields = _string_list(options.get("user_fields", DEFAULT_USER_FIELDS), "options.user_fields")
    if unknown := [field for field in user_fields if field not in USER_FIELDS]:
        raise _invalid("options.user_fields", f"has unknown fields: {', '.join(unknown)}")
    sort_field, sort_order = _sort(
        options,
        "default_sort_field",
        "default_sort_order",
        fields,
        "population" if "population" in fields else fields[0],
    )
    users_sort_field, users_sort_order = _sort(
        options,
        "default_users_sort_field",
        "default_users_sort_order",
        user_fields,
        "score" if "score" in user_fields else user_fields[0],
    )
    rows_per_page = _typed(options.get("rows_per_page", DEFAULT_ROWS_PER_PAGE), int, "options.rows_per_page")
    if not 1 <= rows_per_page <= MAX_ROWS_PER_PAGE:
        raise _invalid("options.rows_per_page", f"must be between 1 and {MAX_ROWS_PER_PAGE}")
    if "groups" not in data:
        raise ServiceError("Missing mandatory parameter: groups", code="missing", field="groups")
    return DatasetSpec(
        dataset_id=dataset_id,
        file_count=file_count,
        mintime=mintime,
        maxtime=maxtime,
        fields=fields,
        sort_field=sort_field,
        sort_order=sort_order,
        user_fields=user_fields,
        users_sort_field=users_sort_field,
        users_sort_order=users_sort_order,
        groups=_groups(data["groups"]),
        rows_per_page=rows_per_page,
        group_source=group_source,
    )


def group_paths_parse(data: dict, *, depth: int) -> list[list[str]]:
    """`group_paths` of `get /reports/datasets`: lists of names no deeper than the hierarchy; the root when absent."""
    paths = data.get("group_paths", [[]])
    _typed(paths, list, "group_paths")
    if len(paths) > MAX_GROUP_PATHS:
        raise ServiceError(
            f"Too many parameters passed: group_paths (at most {MAX_GROUP_PATHS})", code="too_many", field="group_paths"
        )
    for position, path in enumerate(paths):
        if not isinstance(path, list) or not all(isinstance(name, str) for name in path):
            raise ServiceError(
                f"Invalid parameter type: group_paths[{position}]", code="type", field=f"group_paths[{position}]"
            )
        if len(path) > depth:
            raise _invalid(f"group_paths[{position}]", f"is deeper than the dataset's {depth} levels")
    return paths


def job_references_parse(data: dict) -> list[str] | None:
    references = data.get("references")
    if references is None:
        return None
    _typed(references, list, "references")
    if len(references) > MAX_GROUP_PATHS:
        raise ServiceError("Too many parameters passed: references", code="too_many", field="references")
    if not all(isinstance(reference, str) for reference in references):
        raise ServiceError("Invalid parameter type: references", code="type", field="references")
    return references
