"""CKAN's get_group_count and help_show with hostile bodies and query strings: never a 5xx, every refusal in CKAN's
shape (a bare "Bad request: ..." string at 400, else the envelope with success false and a typed error)."""

import json
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.common.testing.hostile import body_with, hostile_texts, json_values, php_query, raw_bodies
from apps.stats.query import COLUMNS, OPERATORS, GroupCountQuery, StatsQueryError, group_count_query_parse

ACTION = "/api/3/action/get_group_count"
VALID = {
    "query": [{"query_group": [{"state": "active"}, {"name": "al%", "operator": "like"}]}],
    "start_date": "2024-01-01",
    "end_date": "2024-12-31",
    "date_field": "created",
}
FIXTURES = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


def ckan_answer(response) -> object:
    assert response.status_code < 500, response.content[:500]
    body = json.loads(response.content)
    if response.status_code == 400:
        assert isinstance(body, str), body
        assert body.startswith("Bad request: "), body
    elif response.status_code >= 400:
        assert body["success"] is False, body
        assert "__type" in body["error"], body
        assert body["help"].startswith("http://testserver/api/3/action/help_show"), body
    else:
        assert body["success"] is True, body
    return body


# A condition as a client might write one: a known or unknown column, any operator, any value, keys in any order.
conditions = st.one_of(
    st.builds(
        lambda column, value, operator, first: {"operator": operator, column: value} if first else
        {column: value, "operator": operator},
        st.sampled_from(sorted(COLUMNS)) | hostile_texts,
        json_values,
        st.sampled_from(OPERATORS) | json_values,
        st.booleans(),
    ),
    json_values,
)  # fmt: skip
queries = st.lists(
    st.one_of(st.builds(lambda c: {"query_group": c}, st.lists(conditions, max_size=3)), json_values), max_size=3
)


@settings(max_examples=150, deadline=None)
@given(query=queries | json_values, start=json_values, end=json_values, date_field=json_values)
def test_parsing_any_data_either_gives_a_query_or_names_the_field(query, start, end, date_field):
    data = {"query": query, "start_date": start, "end_date": end, "date_field": date_field}

    try:
        outcome = group_count_query_parse(data=data, today=date(2025, 1, 1))
    except StatsQueryError as exc:
        outcome = exc.field

    assert isinstance(outcome, GroupCountQuery) or outcome in ("query", "start_date", "end_date", "date_field")


@settings(max_examples=80, **FIXTURES)
@given(body=body_with(VALID))
def test_a_hostile_body_is_counted_or_refused_in_ckans_shape(client, known_groups, sysadmin_key, body):
    response = client.post(ACTION, data=body, content_type="application/json", HTTP_AUTHORIZATION=sysadmin_key)

    body = ckan_answer(response)
    if response.status_code == 200:
        assert isinstance(body["result"]["count"], int)


@settings(max_examples=60, **FIXTURES)
@given(query=queries)
def test_any_conditions_reach_the_database_and_are_counted_or_refused(client, known_groups, sysadmin_key, query):
    body = json.dumps({**VALID, "query": query}, allow_nan=True)

    response = client.post(ACTION, data=body, content_type="application/json", HTTP_AUTHORIZATION=sysadmin_key)

    ckan_answer(response)


@settings(max_examples=30, **FIXTURES)
@given(body=raw_bodies, content_type=st.sampled_from(["application/json", "text/plain", "multipart/form-data"]))
def test_any_bytes_under_any_content_type_are_a_ckan_answer(client, sysadmin_key, body, content_type):
    response = client.post(ACTION, data=body, content_type=content_type, HTTP_AUTHORIZATION=sysadmin_key)

    ckan_answer(response)


@settings(max_examples=50, **FIXTURES)
@given(query=php_query(["name", "id", "q"]), action=st.sampled_from(["help_show", "get_group_count", "x%00"]))
def test_any_query_string_of_a_get_is_a_ckan_answer(client, db, query, action):
    response = client.get(f"/api/3/action/{action}?{query}")

    ckan_answer(response)
