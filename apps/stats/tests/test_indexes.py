"""On PostgreSQL the date window and the common columns are served from indexes (read from EXPLAIN, not timed)."""

import pytest
from django.db import connection

from apps.groups.models import Group
from apps.stats.query import COLUMNS, DATE_FIELDS, group_count_query_parse
from apps.stats.selectors import group_count_queryset

WINDOW = {"start_date": "2024-01-01", "end_date": "2024-12-31"}
COMMON_CONDITIONS = [
    {"state": "active"},
    {"type": "workspace"},
    {"title": "Maths"},
    {"name": "maths-1"},
    {"id": "2f1d3a52-66a1-4d6f-9d57-4c1a7a1a8d11"},
]


def _indexed_columns() -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Group._meta.db_table)
    return {c["columns"][0] for c in constraints.values() if (c["index"] or c["unique"]) and c["columns"]}


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("date_field", list(DATE_FIELDS))
@pytest.mark.parametrize("condition", COMMON_CONDITIONS, ids=lambda condition: next(iter(condition)))
def test_the_window_and_common_columns_are_served_by_indexes(date_field, condition):
    data = {"query": [{"query_group": [condition]}], "date_field": date_field, **WINDOW}
    column = Group._meta.get_field(COLUMNS[next(iter(condition))].path).column

    with connection.cursor() as cursor:
        # With sequential scans priced out, the plan shows whether indexes can serve the query at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = group_count_queryset(query=group_count_query_parse(data=data)).explain()

    assert "Seq Scan" not in plan, plan
    assert "Index" in plan, plan
    assert {column, Group._meta.get_field(DATE_FIELDS[date_field]).column} <= _indexed_columns()
