"""Sunbird's form service read, as the group page of Sunbird's client reads it before grouping activities."""

import json

import pytest

from apps.common.testing.factories import UserFactory, api_key_for
from apps.common.testing.matchers import UUID
from apps.groups.models import Form
from apps.groups.tests.factories import default_forms_ensure

READ = "/api/data/v1/form/read"


class AnyTimestamp:
    def __eq__(self, other):
        return isinstance(other, str) and other.endswith("Z") and "T" in other

    def __repr__(self):
        return "<ISO timestamp>"


TS = AnyTimestamp()


@pytest.fixture(autouse=True)
def default_forms(db):
    default_forms_ensure()


@pytest.fixture
def client_key(db):
    return api_key_for(UserFactory(username="portal-app"))


def post(api_client, body, *, key):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    payload = body if isinstance(body, str) else json.dumps(body)
    response = api_client.post(READ, data=payload, content_type="application/json", **headers)
    return response.status_code, response.json()


def envelope(result=None, *, err=None, errmsg=None, code="OK"):
    return {
        "id": "api.form.read",
        "ver": "1.0",
        "ts": TS,
        "params": {
            "resmsgid": UUID,
            "msgid": UUID,
            "status": "failed" if err else "successful",
            "err": err,
            "errmsg": errmsg,
        },
        "responseCode": code,
        "result": {} if err else result,
    }


def test_the_supported_activities_form_is_served_by_default(api_client, client_key):
    request = {"request": {"type": "group", "subType": "supported_activities", "action": "list"}}

    status, body = post(api_client, request, key=client_key)

    assert status == 200
    form = body["result"]["form"]
    assert body == envelope({"form": form})
    assert {k: form[k] for k in ("type", "subtype", "action", "component", "framework", "rootOrgId")} == {
        "type": "group",
        "subtype": "supported_activities",
        "action": "list",
        "component": "*",
        "framework": "*",
        "rootOrgId": "*",
    }
    assert [field["activityType"] for field in form["data"]["fields"]] == ["Course"]
    assert form["data"]["fields"][0]["objectType"] == "Content"


def test_the_most_specific_form_wins_and_keys_ignore_case(api_client, client_key):
    Form.objects.create(type="group", subtype="supported_activities", action="list", root_org_id="org1",
                        data={"fields": [], "which": "org1"})  # fmt: skip
    Form.objects.create(type="group", subtype="supported_activities", action="list", root_org_id="org1",
                        framework="fw", data={"fields": [], "which": "org1+fw"})  # fmt: skip
    base = {"type": "Group", "subType": "SUPPORTED_ACTIVITIES", "action": "list"}

    answers = {}
    for extra in ({}, {"rootOrgId": "org1"}, {"rootOrgId": "org1", "framework": "fw"}, {"rootOrgId": "org2"}):
        status, body = post(api_client, {"request": base | extra}, key=client_key)
        assert status == 200
        answers[json.dumps(extra)] = body["result"]["form"]["data"].get("which", "default")

    assert list(answers.values()) == ["default", "org1", "org1+fw", "default"]


def test_an_unknown_form_is_a_404_in_the_envelope(api_client, client_key):
    status, body = post(api_client, {"request": {"type": "group", "subType": "nope", "action": "list"}}, key=client_key)

    assert (status, body) == (
        404,
        envelope(err="FORM_NOT_FOUND", errmsg="No form group/nope/list.", code="RESOURCE_NOT_FOUND"),
    )


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({}, "request"),
        ({"request": "x"}, "request"),
        ({"request": {"subType": "s", "action": "a"}}, "type"),
        ({"request": {"type": "t", "action": "a"}}, "subType"),
        ({"request": {"type": "t", "subType": "s"}}, "action"),
        ({"request": {"type": "", "subType": "s", "action": "a"}}, "type"),
        ({"request": {"type": "t" * 65, "subType": "s", "action": "a"}}, "type"),
        ("{not json", "JSON parse error"),
    ],
)
def test_bad_requests_are_400s_with_err_and_errmsg(api_client, client_key, body, missing):
    status, answer = post(api_client, body, key=client_key)

    assert status == 400
    assert answer == envelope(err="ERR_INVALID_REQUEST", errmsg=answer["params"]["errmsg"], code="CLIENT_ERROR")
    assert missing in answer["params"]["errmsg"]


@pytest.mark.parametrize("key", [None, "tly_unknown"])
def test_a_client_key_is_required(db, api_client, key):
    status, body = post(api_client, {"request": {"type": "group", "subType": "x", "action": "list"}}, key=key)

    assert status == 401
    assert body["params"]["err"] == "UNAUTHORIZED"
    assert body["responseCode"] == "UNAUTHORIZED_ACCESS"


def test_the_read_takes_one_query_after_authentication_within_the_posts_transaction(
    api_client, client_key, django_assert_max_num_queries
):
    with django_assert_max_num_queries(5):
        status, _ = post(api_client, {"request": {"type": "group", "subType": "supported_activities",
                                                  "action": "list"}}, key=client_key)  # fmt: skip
    assert status == 200
