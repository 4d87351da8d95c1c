"""Moving query results into polars, where the heavy set-based work of rollups runs."""

import polars as pl
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet


def queryset_frame(queryset: QuerySet, schema: dict[str, pl.DataType]) -> pl.DataFrame:
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
