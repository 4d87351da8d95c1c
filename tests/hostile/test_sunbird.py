"""Sunbird's group API with hostile bodies around a valid request: never a 5xx, every refusal in Sunbird's envelope
(`params.status` "failed", `result` {}, `responseCode` the HTTP status), and a refused write leaves every row as it
was."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.common.api.sunbird import Sunbird
from apps.common.testing.factories import UserFactory, api_key_for
from apps.common.testing.hostile import body_with, hostile_texts, quoted
from apps.groups.models import Activity, Group, Membership
from tests.hostile.conftest import answered

FIXTURES = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


class Caller:
    def __init__(self):
        self.admin, self.member = UserFactory(username="admin"), UserFactory(username="member")
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {api_key_for(UserFactory(username='app'))}",
                        "HTTP_X_AUTHENTICATED_USER_TOKEN": api_key_for(self.admin)}  # fmt: skip


@pytest.fixture
def caller(db, client):
    caller = Caller()
    body = {"request": {"name": "Maths", "members": [{"userId": str(caller.member.public_id), "role": "member"}],
                        "activities": [{"id": "do_1", "type": "Course"}]}}  # fmt: skip
    response = client.post("/api/group/v1/create", json.dumps(body), content_type="application/json", **caller.headers)
    caller.group_id = response.json()["result"]["groupId"]
    return caller


def rows() -> tuple:
    return tuple(list(model.objects.order_by("pk").values()) for model in (Group, Membership, Activity))


def templates(caller: Caller) -> dict[tuple[str, str], dict]:
    group, member, admin = caller.group_id, str(caller.member.public_id), str(caller.admin.public_id)
    return {
        ("post", "/api/group/v1/create"): {"request": {
            "name": "Physics", "description": "d", "membershipType": "invite_only",
            "members": [{"userId": member, "role": "admin"}], "activities": [{"id": "do_2", "type": "Course"}]}},
        ("patch", "/api/group/v1/update"): {"request": {
            "groupId": group, "name": "Maths 2", "status": "suspended",
            "members": {"add": [{"userId": admin, "role": "admin"}], "edit": [{"userId": member, "visited": True}],
                        "remove": [member]},
            "activities": {"add": [{"id": "do_3", "type": "Course"}], "remove": ["do_1"]}}},
        ("post", "/api/group/v1/list"): {"request": {"filters": {"userId": admin}}},
        ("post", "/api/group/v1/delete"): {"request": {"groupId": group}},
        ("patch", "/api/group/membership/v1/update"): {"request": {
            "userId": admin, "groups": [{"groupId": group, "visited": True}]}},
    }  # fmt: skip


def sunbird_answer(response) -> dict:
    body = answered(response, Sunbird)
    assert body["responseCode"] == response.status_code, body
    return body


@settings(max_examples=150, **FIXTURES)
@given(data=st.data())
def test_a_hostile_body_is_served_or_refused_in_sunbird_shape_and_a_refusal_writes_nothing(client, caller, data):
    (method, path), template = data.draw(st.sampled_from(sorted(templates(caller).items())), label="operation")
    body = data.draw(body_with(template), label="body")
    before = rows()

    response = getattr(client, method)(path, body, content_type="application/json", **caller.headers)

    sunbird_answer(response)
    if response.status_code >= 400:
        assert rows() == before


@settings(max_examples=40, **FIXTURES)
@given(group_id=hostile_texts, fields=hostile_texts | st.none())
def test_reading_any_group_id_is_served_or_refused_in_sunbird_shape(client, caller, group_id, fields):
    query = f"?fields={quoted(fields)}" if fields is not None else ""

    response = client.get(f"/api/group/v1/read/{quoted(group_id)}{query}", **caller.headers)

    if response.status_code != 404 or response.get("Content-Type") == "application/json":
        sunbird_answer(response)
