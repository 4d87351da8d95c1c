"""get_group_count keeps one compiled statement per query shape: every shape a client can send is kept, and the
kept statement counts exactly what the ORM counts, for any values."""

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.groups.tests.factories import GroupFactory
from apps.stats import selectors
from apps.stats.query import COLUMNS, OPERATORS_BY_KIND, group_count_query_parse
from apps.stats.selectors import group_count, group_count_queryset

TEXTS = st.sampled_from(["alpha", "a%", "%Lab", "_eta", "PN-AL", "g[1]*?", "50\\%", "", "workspace", "Ünï"])
VALUES_BY_KIND = {
    "text": TEXTS,
    "uuid": st.uuids().map(str),
    "state": st.sampled_from(["active", "pending", "deleted"]),
    "boolean": st.sampled_from([True, False, "true", "false"]),
    "datetime": st.sampled_from(["2024-02-20", "2024-02-20T12:00:00", "2024-03-05T12:00:00+02:00", "2025-06-01"]),
}


@st.composite
def conditions(draw):
    name = draw(st.sampled_from(sorted(COLUMNS)))
    kind = COLUMNS[name].kind
    operator = draw(st.sampled_from(OPERATORS_BY_KIND[kind]))
    nullable = operator in ("=", "!")
    value = draw(st.none() | VALUES_BY_KIND[kind]) if nullable else draw(VALUES_BY_KIND[kind])
    return {name: value, "operator": operator}


QUERIES = st.lists(st.lists(conditions(), min_size=1, max_size=3).map(lambda c: {"query_group": c}), max_size=3)


@pytest.fixture
def groups(db):
    rows = [
        ("alpha", "Alpha Lab", "2024-01-10T08:00:00", "active", True),
        ("beta", "Beta Team", "2024-02-20T00:00:00", "suspended", False),
        ("gamma", "Gamma_Lab", "2024-02-20T23:59:59", "inactive", True),
        ("delta", "50% Delta", "2024-03-05T12:00:00", "active", False),
    ]
    for slug, title, created, status, open_access in rows:
        moment = datetime.fromisoformat(created).replace(tzinfo=UTC)
        GroupFactory(slug=slug, name=title, created_at=moment, updated_at=moment, status=status,
                     open_access=open_access, project_number=f"PN-{slug[:2].upper()}")  # fmt: skip
    GroupFactory(slug="orphan", owner=None, created_at=datetime(2024, 5, 1, tzinfo=UTC))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query_groups=QUERIES, date_field=st.sampled_from(["created", "last_modified"]))
def test_every_shape_is_kept_and_counts_what_the_orm_counts(groups, query_groups, date_field):
    data = {"query": query_groups or [{"query_group": [{"state": "active"}]}], "date_field": date_field,
            "start_date": "2024-01-01", "end_date": "2025-12-31"}  # fmt: skip
    query = group_count_query_parse(data=data)
    expected = group_count_queryset(query=query).count()

    first, again = group_count(query=query), group_count(query=query)

    assert (first, again) == (expected, expected)
    assert selectors._compiled[selectors._shape(query)], "the ORM bound this shape differently; it is never kept"


def test_a_flood_of_shapes_only_empties_the_statements(groups, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_COMPILED_SHAPES", 2)
    selectors._compiled.clear()
    window = {"start_date": "2024-01-01", "end_date": "2025-12-31", "date_field": "created"}

    counts = [
        group_count(query=group_count_query_parse(data={"query": [{"query_group": [condition]}], **window}))
        for condition in ({"state": "active"}, {"type": "x"}, {"name": "a%", "operator": "like"}, {"state": "active"})
    ]

    assert counts == [3, 0, 1, 3]
    assert len(selectors._compiled) <= 2
