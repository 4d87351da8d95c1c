"""Newspark's groups service with hostile query strings (PHP arrays, booleans, geo, broken escapes), in JSON and
XML: never a 5xx, every refusal `{"status": false, "error": {code, message}}` or `<error><code/><message/></error>`."""

import json
from xml.etree import ElementTree

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError

from apps.common.api.newspark import query_arguments
from apps.common.testing.hostile import hostile_numbers, hostile_texts, php_query, quoted
from apps.groups.tests.factories import GroupFactory

FIXTURES = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}
FILTERS = ["creatorUserID", "custom1", "endAfter", "endBefore", "startAfter", "startBefore", "geoCenter",
           "geoDistance", "geoBoundaries", "geo", "includeChildren", "mediaID", "parentGroupID", "searchDescription",
           "searchName", "searchQuery"]  # fmt: skip
ARGUMENTS = ["vhost", "uid", "moderationStatus", "sort", "startPage", "pageSize", "includeTotalCount", "noLimit",
             "childGroupCount", "groupType", "groupId", "parentGroup"]  # fmt: skip
ARGUMENTS += [f"filters[{name}]" for name in FILTERS]
# Values that pass a field's first check and fail a later one: booleans, geo lists, sorts, dates, types.
VALUES = st.one_of(
    hostile_texts,
    hostile_numbers.map(str),
    st.sampled_from(["1", "0", "true", "false", "on", "yes", "null", "distance", "name ASC", "created DESC x",
                     "1,2", "1,2,3,4", "90.0000001,0", "nan,inf", "1e999,1", "-0,-0", "1,3", "null,1", "2026-01-01",
                     "2026-01-01 25:00:00", "9999-12-31T23:59:59+14:00", "notnull", "all", "4294967296", "-1"]),
)  # fmt: skip


@pytest.fixture
def groups(db):
    parent = GroupFactory(vhost=1, latitude=10.0, longitude=20.0)
    GroupFactory(vhost=1, parent=parent, other={"k": ["v", 1.5]})


def newspark_answer(response, transport: str) -> None:
    assert response.status_code < 500, response.content[:500]
    if transport == "json":
        body = json.loads(response.content)
        assert body["status"] is (response.status_code < 400), body
        if response.status_code >= 400:
            assert isinstance(body["error"]["code"], str), body
            assert body["error"]["message"], body
        return
    root = ElementTree.fromstring(response.content)
    if response.status_code >= 400:
        assert root.tag == "error", response.content
        assert [child.tag for child in root] == ["code", "message"], response.content
    else:
        assert root.tag == "result", response.content


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(st.tuples(st.sampled_from(ARGUMENTS) | hostile_texts, hostile_texts), max_size=8))
def test_reading_php_arguments_gives_a_map_or_a_parse_error(pairs):
    query = QueryDict("&".join(f"{quoted(name)}={quoted(value)}" for name, value in pairs))

    try:
        outcome = query_arguments(query)
    except ParseError as exc:
        outcome = str(exc.detail)

    assert isinstance(outcome, dict) or outcome.startswith(("Invalid argument name", "Argument ")), outcome


@settings(max_examples=120, **FIXTURES)
@given(
    method=st.sampled_from(["getGroups", "getGroup", "getGroupTree"]),
    transport=st.sampled_from(["json", "rest"]),
    query=php_query(ARGUMENTS, VALUES),
    vhost=st.sampled_from(["vhost=1&", ""]),
)
def test_any_query_string_is_a_result_or_a_newspark_error(client, groups, method, transport, query, vhost):
    response = client.get(f"/services/{transport}/groups/{method}?{vhost}{query}")

    newspark_answer(response, transport)
