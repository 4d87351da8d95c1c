"""Moving query results into polars, where the heavy set-based work of rollups runs."""

import io
from collections.abc import Mapping

import polars as pl
from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import QuerySet
from polars.datatypes import DataType

# A dtype as polars takes it: an instance (pl.Datetime("us", "UTC")) or a class (pl.Int64).
PolarsDataType = DataType | type[DataType]


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
    columns = ", ".join(frame.columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            target = "frame_staging" if ignore_conflicts else table
            if ignore_conflicts:
                # Dropped explicitly too: inside an outer transaction ON COMMIT comes too late for the next call.
                cursor.execute("DROP TABLE IF EXISTS frame_staging")
                cursor.execute(
                    f"CREATE TEMP TABLE frame_staging ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA"
                )
            buffer = io.StringIO()
            frame.write_csv(buffer, include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.f%z")
            with cursor.cursor.copy(f"COPY {target} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
            if not ignore_conflicts:
                return frame.height
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM frame_staging ON CONFLICT DO NOTHING"
            )
            inserted = cursor.rowcount
            cursor.execute("DROP TABLE frame_staging")
            return inserted
        verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
        placeholders = ", ".join(["%s"] * len(frame.columns))
        before = connection.connection.total_changes
        cursor.executemany(f"{verb} INTO {table} ({columns}) VALUES ({placeholders})", _sqlite_values(frame).rows())
        return connection.connection.total_changes - before
