"""get_group_count through the CKAN action API: semantics, validation and envelope (test client)."""

import json

import pytest

ACTION = "/api/3/action/get_group_count"
WINDOW = {"start_date": "2024-01-01", "end_date": "2025-12-31", "date_field": "created"}
HELP = "http://testserver/api/3/action/help_show?name=get_group_count"


def post(client, body, key=None, path=ACTION, **headers):
    if key:
        headers["HTTP_EDX_API_KEY"] = key
    raw = body if isinstance(body, str) else json.dumps(body)
    response = client.post(path, data=raw, content_type="application/json", **headers)
    return response.status_code, response.json()


def count(client, key, query, **window):
    status, body = post(client, {"query": query, **WINDOW, **window}, key)
    assert status == 200, body
    return body["result"]["count"]


def validation_error(client, key, body) -> tuple[int, dict]:
    status, response = post(client, body, key)
    assert response["success"] is False
    return status, response["error"]


def qg(*conditions) -> dict:
    return {"query_group": list(conditions)}


# Envelope and transport


def test_success_envelope_with_the_absolute_help_url(client, known_groups, sysadmin_key):
    status, body = post(
        client, {"query": [qg({"state": "active"})], **WINDOW}, sysadmin_key, HTTP_USER_AGENT="EDX-USER"
    )

    assert (status, body) == (200, {"help": HELP, "success": True, "result": {"count": 3}})


def test_the_unversioned_path_answers_the_same_with_its_own_help_url(client, known_groups, sysadmin_key):
    status, body = post(
        client, {"query": [qg({"state": "active"})], **WINDOW}, sysadmin_key, path="/api/action/get_group_count"
    )

    assert (status, body["result"], body["help"]) == (
        200,
        {"count": 3},
        "http://testserver/api/action/help_show?name=get_group_count",
    )


def test_the_seed_validation_error_for_an_unknown_field(client, known_groups, sysadmin_key):
    status, body = post(client, {"query": [qg({"test": "x"})], **WINDOW}, sysadmin_key)

    assert (status, body) == (
        409,
        {
            "help": HELP,
            "success": False,
            "error": {"query": 'Field "test" not recognized in group table.', "__type": "Validation Error"},
        },
    )


def test_get_is_refused_with_ckans_bare_string(client, sysadmin_key):
    response = client.get(ACTION, HTTP_EDX_API_KEY=sysadmin_key)

    assert (response.status_code, response.json()) == (
        400,
        "Bad request: JSON Error: Invalid request. Please use POST method for your request",
    )


def test_an_unknown_action_is_a_bare_400(client, sysadmin_key):
    status, body = post(client, {}, sysadmin_key, path="/api/3/action/get_unicorn_count")

    assert (status, body) == (400, "Bad request: Action name not known: get_unicorn_count")


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "{not json"])
def test_a_body_that_is_not_a_json_object_is_a_bare_400(client, sysadmin_key, raw):
    status, body = post(client, raw, sysadmin_key)

    assert status == 400
    assert body.startswith("Bad request: JSON Error: ")


def test_no_trailing_slash_redirect_on_post(client, sysadmin_key):
    response = client.post(ACTION + "/", data="{}", content_type="application/json", HTTP_EDX_API_KEY=sysadmin_key)

    assert response.status_code == 404


def test_help_show_returns_the_actions_documentation(client):
    response = client.get("/api/3/action/help_show", {"name": "get_group_count"})
    missing = client.get("/api/3/action/help_show", {"name": "nope"})

    assert response.status_code == 200
    assert response.json()["result"].startswith("Count groups by any combination")
    assert (missing.status_code, missing.json()["error"]) == (
        404,
        {"__type": "Not Found Error", "message": "Not found: Action function not found"},
    )


# Auth


@pytest.mark.parametrize("headers", [{}, {"HTTP_EDX_API_KEY": "tly_unknown"}, {"HTTP_AUTHORIZATION": "garbage"}])
def test_anonymous_callers_need_to_authenticate(client, db, headers):
    status, body = post(client, {"query": [qg({"state": "active"})], **WINDOW}, **headers)

    assert (status, body["error"]) == (
        403,
        {
            "__type": "Authorization Error",
            "message": "Access denied: Action get_group_count requires an authenticated user",
        },
    )


def test_a_non_sysadmin_is_not_authorized(client, plain_key):
    status, body = post(client, {"query": [qg({"state": "active"})], **WINDOW}, plain_key)

    assert (status, body["error"]) == (
        403,
        {"__type": "Authorization Error", "message": "Access denied: Not authorized"},
    )


@pytest.mark.parametrize("header", ["HTTP_X_CKAN_API_KEY", "HTTP_EDX_API_KEY", "HTTP_AUTHORIZATION"])
def test_every_documented_key_header_works(client, known_groups, sysadmin_key, header):
    status, body = post(client, {"query": [qg({"state": "active"})], **WINDOW}, **{header: sysadmin_key})

    assert (status, body["result"]) == (200, {"count": 3})


# Semantics


def test_or_within_a_query_group_and_across_groups(client, known_groups, sysadmin_key):
    either_state = qg({"state": "active"}, {"state": "pending"})
    workspaces = qg({"type": "workspace"})

    assert count(client, sysadmin_key, [either_state]) == 4
    assert count(client, sysadmin_key, [either_state, workspaces]) == 1
    assert count(client, sysadmin_key, [either_state, qg({"type": "workspace"}, {"open_access": True})]) == 3


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"name": "alpha"}, 1),
        ({"name": "alpha", "operator": "!"}, 4),
        ({"title": "% Lab", "operator": "like"}, 3),
        ({"title": "%lab", "operator": "like"}, 0),
        ({"title": "_eta Team", "operator": "like"}, 1),
        ({"name": "d", "operator": ">"}, 3),
        ({"name": "beta", "operator": "<="}, 2),
        ({"project_number": "PN-AL", "operator": ">="}, 5),
        ({"project_number": "PN-BE", "operator": "<"}, 1),
    ],
)
def test_text_columns_take_every_operator(client, known_groups, sysadmin_key, condition, expected):
    assert count(client, sysadmin_key, [qg(condition)]) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"open_access": True}, 3),
        ({"open_access": "true"}, 3),
        ({"open_access": "False"}, 2),
        ({"netl_only": True, "operator": "!"}, 4),
        ({"group_reviewed": False}, 5),
    ],
)
def test_boolean_columns(client, known_groups, sysadmin_key, condition, expected):
    assert count(client, sysadmin_key, [qg(condition)]) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"created": "2024-02-20"}, 2),
        ({"created": "2024-02-20", "operator": "!"}, 3),
        ({"created": "2024-02-20", "operator": "<"}, 1),
        ({"created": "2024-02-20", "operator": "<="}, 3),
        ({"created": "2024-02-20", "operator": ">"}, 2),
        ({"created": "2024-02-20", "operator": ">="}, 4),
        ({"created": "2024-02-20T12:00:00Z", "operator": ">"}, 3),
        ({"last_modified": "2024-03-05T12:00:00+00:00"}, 1),
    ],
)
def test_datetime_columns_by_day_or_moment(client, known_groups, sysadmin_key, condition, expected):
    assert count(client, sysadmin_key, [qg(condition)]) == expected


@pytest.mark.parametrize("column", ["created", "last_modified"])
@pytest.mark.parametrize("operator", ["=", "!", "<", "<=", ">", ">="])
@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31",
        "0001-01-01T00:00:00+05:00",
        "0001-01-01T00:59:59.999999+01:00",
        "9999-12-31T23:00:00-05:00",
        "9999-12-31T23:59:59-00:01",
    ],
)
def test_moments_past_the_ends_of_the_calendar_are_a_validation_error(client, sysadmin_key, column, operator, value):
    body = {"query": [qg({column: value, "operator": operator})], **WINDOW}

    status, error = validation_error(client, sysadmin_key, body)

    assert status == 409
    assert error == {
        "query": f'Value "{value}" of field "{column}" is outside the dates that can be compared.',
        "__type": "Validation Error",
    }


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"created": "0001-01-01", "operator": ">"}, 5),
        ({"created": "9999-12-30", "operator": "<"}, 5),
        ({"created": "0001-01-01T00:00:00Z", "operator": ">="}, 5),
        ({"created": "0001-01-01T00:00:00-05:00", "operator": ">="}, 5),
        ({"created": "9999-12-31T23:59:59.999999Z", "operator": "<"}, 5),
        ({"created": "9999-12-31T23:59:59+05:00", "operator": "<="}, 5),
    ],
)
def test_moments_at_the_ends_of_the_calendar_are_compared(client, known_groups, sysadmin_key, condition, expected):
    # All five known groups were created within the window.
    assert count(client, sysadmin_key, [qg(condition)]) == expected


def test_uuid_and_state_columns(client, known_groups, sysadmin_key):
    alpha = known_groups["alpha"]

    assert count(client, sysadmin_key, [qg({"id": str(alpha.public_id)})]) == 1
    assert count(client, sysadmin_key, [qg({"owner_id": str(alpha.owner.public_id)})]) == 2
    assert count(client, sysadmin_key, [qg({"owner_id": None})]) == 3
    assert count(client, sysadmin_key, [qg({"revision_id": str(alpha.revision_id), "operator": "!"})]) == 4
    assert count(client, sysadmin_key, [qg({"state": "deleted"})]) == 1
    assert count(client, sysadmin_key, [qg({"landing_page": "dashboard"})]) == 5


def test_the_date_window_is_inclusive_on_both_days(client, known_groups, sysadmin_key):
    everything = [qg({"landing_page": "dashboard"})]

    assert count(client, sysadmin_key, everything, start_date="2024-02-20", end_date="2024-02-20") == 2
    assert count(client, sysadmin_key, everything, start_date="2024-01-10", end_date="2024-03-05") == 4
    assert count(client, sysadmin_key, everything, date_field="last_modified", start_date="2025-06-01") == 1


def test_values_are_bound_never_spliced_into_sql(client, known_groups, sysadmin_key):
    injection = "alpha' OR '1'='1"

    assert count(client, sysadmin_key, [qg({"name": injection})]) == 0
    assert count(client, sysadmin_key, [qg({"name": injection, "operator": "like"})]) == 0


# Validation


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({**WINDOW}, {"query": "Missing value"}),
        ({"query": "state", **WINDOW}, {"query": 'Must be a list of {"query_group": [...]} objects.'}),
        (
            {"query": [{"state": "active"}], **WINDOW},
            {"query": 'Each item of query must be {"query_group": [<condition>, ...]} with at least one condition.'},
        ),
        (
            {"query": [qg("state")], **WINDOW},
            {"query": 'Each condition of a query_group must be an object such as {"state": "active"}.'},
        ),
        (
            {"query": [qg({"operator": "<", "created": "2024-01-01"})], **WINDOW},
            {"query": 'The operator must come after the field name "created".'},
        ),
        (
            {"query": [qg({"state": "active", "type": "group"})], **WINDOW},
            {"query": "Each condition names exactly one field, got 2: {'state': 'active', 'type': 'group'}."},
        ),
        (
            {"query": [qg({"name": "a", "operator": "~"})], **WINDOW},
            {"query": 'Operator "~" not recognized. Use one of: =, !, <, >, <=, >=, like.'},
        ),
        (
            {"query": [qg({"open_access": True, "operator": "like"})], **WINDOW},
            {"query": 'Operator "like" cannot be used with field "open_access".'},
        ),
        (
            {"query": [qg({"created": "x", "operator": "like"})], **WINDOW},
            {"query": 'Operator "like" cannot be used with field "created".'},
        ),
        (
            {"query": [qg({"open_access": "yes"})], **WINDOW},
            {"query": 'Value "yes" of field "open_access" is not a boolean (true or false).'},
        ),
        (
            {"query": [qg({"created": "yesterday"})], **WINDOW},
            {"query": 'Value "yesterday" of field "created" is not a date (YYYY-MM-DD) or ISO 8601 datetime.'},
        ),
        ({"query": [qg({"id": "42"})], **WINDOW}, {"query": 'Value "42" of field "id" is not a valid id.'}),
        (
            {"query": [qg({"state": "draft"})], **WINDOW},
            {"query": 'Value "draft" of field "state" is not a state (active, pending or deleted).'},
        ),
        ({"query": [qg({"title": 7})], **WINDOW}, {"query": 'Value of field "title" must be a string.'}),
        (
            {"query": [qg({"title": "x" * 1001})], **WINDOW},
            {"query": 'Value of field "title" is longer than 1000 characters.'},
        ),
        (
            {"query": [qg({"title": None, "operator": "<"})], **WINDOW},
            {"query": 'Operator "<" cannot be used with a null value of field "title".'},
        ),
        ({"query": [qg({"state": "active"})] * 21, **WINDOW}, {"query": "At most 20 query_groups are allowed."}),
        (
            {"query": [qg(*[{"state": "active"}] * 51)], **WINDOW},
            {"query": "At most 50 conditions are allowed in a query_group."},
        ),
        (
            {"query": [qg({"state": "active"})], "end_date": "2024-01-01", "date_field": "created"},
            {"start_date": "Missing value"},
        ),
        (
            {"query": [qg({"state": "active"})], **WINDOW, "start_date": "01/02/2024"},
            {"start_date": "Date must be in YYYY-MM-DD format."},
        ),
        (
            {"query": [qg({"state": "active"})], **WINDOW, "end_date": "2999-01-01"},
            {"end_date": "Date cannot be greater than the current date."},
        ),
        (
            {"query": [qg({"state": "active"})], **WINDOW, "start_date": "2025-01-01", "end_date": "2024-01-01"},
            {"start_date": "start_date cannot be greater than end_date."},
        ),
        (
            {"query": [qg({"state": "active"})], "start_date": "2024-01-01", "end_date": "2024-01-02"},
            {"date_field": "Missing value"},
        ),
        (
            {"query": [qg({"state": "active"})], **WINDOW, "date_field": "deleted"},
            {"date_field": 'Field "deleted" is not a valid date_field. Use one of: created, last_modified.'},
        ),
        (
            {"query": [qg({"state": "active"})], **WINDOW, "date_field": ["created"]},
            {"date_field": "Field \"['created']\" is not a valid date_field. Use one of: created, last_modified."},
        ),
    ],
)
def test_every_validation_rule_with_its_message(client, sysadmin_key, body, error):
    status, response_error = validation_error(client, sysadmin_key, body)

    assert (status, response_error) == (409, {**error, "__type": "Validation Error"})
