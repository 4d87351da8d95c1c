"""Parsing and validation of a `get_group_count` request, as NETL EDX documents it.

Column names and operators are looked up in fixed tables and never reach SQL as text; values become bound
parameters of ORM lookups. Every problem is a StatsQueryError naming the request field it concerns.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NoReturn

from django.utils import timezone

from apps.common.dates import day_start
from apps.common.exceptions import ServiceError
from apps.common.ids import uuid_or_none

MAX_QUERY_GROUPS = 20
MAX_CONDITIONS_PER_GROUP = 50
MAX_VALUE_LENGTH = 1000
OPERATORS = ("=", "!", "<", ">", "<=", ">=", "like")
CKAN_STATES = {"active": "active", "pending": "suspended", "deleted": "inactive"}
DATE_FIELDS = {"created": "created_at", "last_modified": "updated_at"}
TRUTH = {"true": True, "false": False}


class StatsQueryError(ServiceError):
    default_code = "invalid"


@dataclass(frozen=True)
class Column:
    """A column of EDX's group table: the model path it reads and its kind, which decides values and operators."""

    path: str
    kind: str  # text | uuid | state | boolean | datetime


COLUMNS: dict[str, Column] = {
    "name": Column("slug", "text"),
    "id": Column("public_id", "uuid"),
    "title": Column("name", "text"),
    "description": Column("description", "text"),
    "created": Column("created_at", "datetime"),
    "state": Column("status", "state"),
    "revision_id": Column("revision_id", "uuid"),
    "type": Column("type", "text"),
    "approval_status": Column("approval_status", "text"),
    "image_url": Column("image_url", "text"),
    "owner_id": Column("owner__public_id", "uuid"),
    "landing_page": Column("landing_page", "text"),
    "group_reviewed": Column("group_reviewed", "boolean"),
    "open_access": Column("open_access", "boolean"),
    "netl_only": Column("netl_only", "boolean"),
    "last_modified": Column("updated_at", "datetime"),
    "project_number": Column("project_number", "text"),
}
OPERATORS_BY_KIND = {
    "text": OPERATORS,
    "uuid": ("=", "!"),
    "state": ("=", "!"),
    "boolean": ("=", "!"),
    "datetime": ("=", "!", "<", ">", "<=", ">="),
}


@dataclass(frozen=True)
class Condition:
    """One `{column: value, "operator": op}` of a query_group. `value` has the column's type; a whole day on a
    datetime column is a (start, end) pair."""

    column: Column
    operator: str
    value: Any


@dataclass(frozen=True)
class GroupCountQuery:
    query_groups: list[list[Condition]]
    date_path: str
    start: datetime
    end: datetime  # exclusive


def _fail(field: str, message: str) -> NoReturn:
    raise StatsQueryError(message, field=field)


def _parse_day(field: str, value: Any, today: date) -> date:
    if value is None or value == "":
        _fail(field, "Missing value")
    day = None
    if isinstance(value, str) and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
    if day is None:
        _fail(field, "Date must be in YYYY-MM-DD format.")
    if day > today:
        _fail(field, "Date cannot be greater than the current date.")
    return day


def _parse_moment(name: str, value: Any) -> datetime | tuple[datetime, datetime]:
    """A whole UTC day (start, end) for `YYYY-MM-DD`, or one moment for an ISO 8601 datetime (UTC when naive)."""
    if isinstance(value, str):
        try:
            if len(value) == 10:
                start = day_start(date.fromisoformat(value))
                return start, start + timedelta(days=1)
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            pass
    return _fail("query", f'Value "{value}" of field "{name}" is not a date (YYYY-MM-DD) or ISO 8601 datetime.')


def _convert(name: str, column: Column, operator: str, value: Any) -> Any:
    if value is None:
        if operator not in ("=", "!"):
            _fail("query", f'Operator "{operator}" cannot be used with a null value of field "{name}".')
        return None
    if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
        _fail("query", f'Value of field "{name}" is longer than {MAX_VALUE_LENGTH} characters.')
    if column.kind == "boolean":
        converted = value if isinstance(value, bool) else TRUTH.get(value.lower()) if isinstance(value, str) else None
        if converted is None:
            _fail("query", f'Value "{value}" of field "{name}" is not a boolean (true or false).')
        return converted
    if not isinstance(value, str):
        _fail("query", f'Value of field "{name}" must be a string.')
    if column.kind == "uuid":
        public_id = uuid_or_none(value)
        if public_id is None:
            _fail("query", f'Value "{value}" of field "{name}" is not a valid id.')
        return public_id
    if column.kind == "state":
        if value not in CKAN_STATES:
            _fail("query", f'Value "{value}" of field "{name}" is not a state (active, pending or deleted).')
        return CKAN_STATES[value]
    if column.kind == "datetime":
        return _parse_moment(name, value)
    return value


def _parse_condition(raw: Any) -> Condition:
    if not isinstance(raw, dict) or not raw:
        _fail("query", 'Each condition of a query_group must be an object such as {"state": "active"}.')
    keys = list(raw)
    columns = [key for key in keys if key != "operator"]
    for name in columns:
        if name not in COLUMNS:
            _fail("query", f'Field "{name}" not recognized in group table.')
    if len(columns) != 1:
        _fail("query", f"Each condition names exactly one field, got {len(columns)}: {raw!r}.")
    name = columns[0]
    operator = raw.get("operator", "=")
    if not isinstance(operator, str):
        _fail("query", f'Operator of field "{name}" must be a string.')
    if "operator" in raw and keys.index("operator") < keys.index(name):
        _fail("query", f'The operator must come after the field name "{name}".')
    if operator not in OPERATORS:
        _fail("query", f'Operator "{operator}" not recognized. Use one of: {", ".join(OPERATORS)}.')
    column = COLUMNS[name]
    if operator not in OPERATORS_BY_KIND[column.kind]:
        _fail("query", f'Operator "{operator}" cannot be used with field "{name}".')
    return Condition(column=column, operator=operator, value=_convert(name, column, operator, raw[name]))


def _parse_query(raw: Any) -> list[list[Condition]]:
    if raw is None or raw == [] or raw == "":
        _fail("query", "Missing value")
    if not isinstance(raw, list):
        _fail("query", 'Must be a list of {"query_group": [...]} objects.')
    if len(raw) > MAX_QUERY_GROUPS:
        _fail("query", f"At most {MAX_QUERY_GROUPS} query_groups are allowed.")
    groups = []
    for item in raw:
        conditions = item.get("query_group") if isinstance(item, dict) and set(item) == {"query_group"} else None
        if not isinstance(conditions, list) or not conditions:
            _fail(
                "query", 'Each item of query must be {"query_group": [<condition>, ...]} with at least one condition.'
            )
        if len(conditions) > MAX_CONDITIONS_PER_GROUP:
            _fail("query", f"At most {MAX_CONDITIONS_PER_GROUP} conditions are allowed in a query_group.")
        groups.append([_parse_condition(condition) for condition in conditions])
    return groups


def group_count_query_parse(*, data: dict, today: date | None = None) -> GroupCountQuery:
    """Validate a get_group_count data dict into a GroupCountQuery; StatsQueryError names the first field at fault.

    Fields are checked in the documented order: query, start_date, end_date, date_field.
    """
    today = today or timezone.now().date()
    query_groups = _parse_query(data.get("query"))
    start = _parse_day("start_date", data.get("start_date"), today)
    end = _parse_day("end_date", data.get("end_date"), today)
    if start > end:
        _fail("start_date", "start_date cannot be greater than end_date.")
    date_field = data.get("date_field")
    if date_field in (None, ""):
        _fail("date_field", "Missing value")
    if not isinstance(date_field, str) or date_field not in DATE_FIELDS:
        _fail("date_field", f'Field "{date_field}" is not a valid date_field. Use one of: created, last_modified.')
    return GroupCountQuery(
        query_groups=query_groups,
        date_path=DATE_FIELDS[date_field],
        start=day_start(start),
        end=day_start(end) + timedelta(days=1),
    )
