"""Moving query results into polars, where the heavy set-based work of rollups runs."""

import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import polars as pl
from django.core.exceptions import EmptyResultSet
from django.db import connection, connections, router
from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet
from polars.datatypes import DataType

# A dtype as polars takes it: an instance (pl.Datetime("us", "UTC")) or a class (pl.Int64).
PolarsDataType = DataType | type[DataType]
# The moments Python (so Django, and every page) can hold once in UTC: polars parses `0001-01-01T00:00+14:00` to a
# year 0 that it stores and SQLite keeps, and that no reader of the row can load.
FIRST_MOMENT = datetime.min.replace(tzinfo=UTC)
LAST_MOMENT = datetime.max.replace(tzinfo=UTC)


def text_refused(*columns: str) -> pl.Expr:
    """True where one of the string `columns` holds text that apps.common.safe_json refuses (PostgreSQL cannot store
    it, SQLite truncates at it): a NUL, which is also what polars decodes an escaped lone surrogate (`\\ud800`) to."""
    return pl.any_horizontal([pl.col(name).str.contains("\x00", literal=True).fill_null(False) for name in columns])


def moment_unreadable(column: str) -> pl.Expr:
    """True where a parsed datetime `column` lies outside the years Python can read once in UTC."""
    return pl.col(column).is_not_null() & ~pl.col(column).is_between(FIRST_MOMENT, LAST_MOMENT).fill_null(False)


def queryset_frame(queryset: QuerySet, schema: Mapping[str, PolarsDataType]) -> pl.DataFrame:
    """The rows of `queryset.values_list(*schema)` as a DataFrame with that schema, read in one query.

    The SQL is Django's own, with bound parameters; polars takes the rows column-wise from there.
    """
    try:
        sql, params = queryset.values_list(*schema).query.sql_with_params()
    except EmptyResultSet:
        return pl.DataFrame(schema=schema)
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


def _sqlite_values(frame: pl.DataFrame) -> pl.DataFrame:
    """Dates and datetimes as Django's SQLite backend writes them: ISO dates, naive UTC datetimes."""
    return frame.with_columns(
        *[
            pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None).dt.strftime("%Y-%m-%d %H:%M:%S%.f")
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.Datetime)
        ],
        *[pl.col(name).dt.strftime("%Y-%m-%d") for name, dtype in frame.schema.items() if dtype == pl.Date],
    )


def frame_insert(*, table: str, frame: pl.DataFrame, ignore_conflicts: bool = False) -> int:
    """Insert a DataFrame's rows (columns named as the table's) in bulk; returns how many rows were inserted.

    PostgreSQL takes them by COPY (through a staging table and INSERT ... ON CONFLICT DO NOTHING when conflicts are
    ignored); SQLite by one executemany. Table and column names come from the caller's model, never from input.
    """
    if frame.is_empty():
        return 0
    columns = ", ".join(connection.ops.quote_name(name) for name in frame.columns)
    if connection.vendor == "postgresql" and ignore_conflicts:
        definition = f"AS SELECT {columns} FROM {table} WITH NO DATA"
        with staging_table("frame_staging", definition, frame=frame) as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM frame_staging ON CONFLICT DO NOTHING"
            )
            return cursor.rowcount
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            frame.write_csv(buffer, include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.f%z")
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
            return frame.height
        verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
        placeholders = ", ".join(["%s"] * len(frame.columns))
        before = connection.connection.total_changes
        cursor.executemany(f"{verb} INTO {table} ({columns}) VALUES ({placeholders})", _sqlite_values(frame).rows())
        return connection.connection.total_changes - before


@contextmanager
def staging_table(
    name: str, definition: str, *, params: Sequence = (), frame: pl.DataFrame | None = None
) -> Iterator[CursorWrapper]:
    """A temporary table `name`, made by `definition` (`(columns)` or `AS SELECT ...` with `params`) and filled with
    `frame` when given, for the block's statements (the cursor it yields), and dropped after it. Dropped first too:
    inside an outer transaction, the table of an earlier call can still be there. `name` and `definition` come from
    the caller's code, never from input."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"CREATE TEMP TABLE {name} {definition}", params)
        if frame is not None:
            frame_insert(table=name, frame=frame)
        yield cursor
        cursor.execute(f"DROP TABLE {name}")


def queryset_delete(queryset: QuerySet) -> int:
    """Delete the rows `queryset` selects in one statement and return how many: no row is loaded and no signal sent
    (Django loads every row first wherever a delete receiver listens), so the caller says what changed. Nothing
    cascades: for tables no foreign key points to."""
    return queryset._raw_delete(router.db_for_write(queryset.model))


def _text_parse(frame: pl.DataFrame, schema: Mapping[str, PolarsDataType]) -> pl.DataFrame:
    """The columns PostgreSQL's CSV writes as text of its own, parsed: datetimes are ISO with a `+00` offset (Django's
    connections run in UTC), booleans `t` or `f`."""
    return frame.with_columns(
        *[
            pl.col(name)
            .str.strip_suffix("+00")
            .str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us")
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone(dtype.time_zone or "UTC")
            for name, dtype in schema.items()
            if isinstance(dtype, pl.Datetime)
        ],
        *[pl.col(name) == "t" for name, dtype in schema.items() if dtype == pl.Boolean],
    )


def queryset_copy_frame(queryset: QuerySet, schema: Mapping[str, PolarsDataType]) -> pl.DataFrame:
    """As `queryset_frame`, for text, numeric, boolean, date and UTC datetime columns: PostgreSQL streams the rows by
    COPY as CSV, which polars parses column-wise, instead of building a Python tuple per row (several times faster on
    millions of rows). Other databases read through `queryset_frame`."""
    if connections[queryset.db].vendor != "postgresql":
        return queryset_frame(queryset, schema)
    try:
        sql, params = queryset.values_list(*schema).query.sql_with_params()
    except EmptyResultSet:
        return pl.DataFrame(schema=schema)
    with connections[queryset.db].cursor() as cursor:
        # COPY takes no bound parameters: the query is bound on the client (psycopg's own quoting).
        query = cursor.mogrify(sql, params)
        buffer = io.BytesIO()
        with cursor.cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
            for block in copy:
                buffer.write(block)
    buffer.seek(0)
    as_text = {
        name: pl.String if isinstance(dtype, pl.Datetime) or dtype == pl.Boolean else dtype
        for name, dtype in schema.items()
    }
    return _text_parse(pl.read_csv(buffer, has_header=False, new_columns=list(schema), schema=as_text), schema)
