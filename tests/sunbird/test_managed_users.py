"""Managed users (Sunbird's MUA): `x-authenticated-for` names the account a logged-in user acts for."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.common.services import user_manager_set
from apps.common.testing.matchers import SUNBIRD_TS, UUID
from apps.groups.models import Group, Membership
from tests.sunbird.conftest import Person

UNAUTHORIZED = {
    "id": UUID,
    "ver": None,
    "ts": SUNBIRD_TS,
    "params": {
        "resmsgid": None,
        "msgid": UUID,
        "err": "GS_UNAUTHORIZED",
        "status": "failed",
        "errmsg": "You are an unauthorized.Contact your system administrator",
    },
    "responseCode": 401,
    "result": {},
}


@pytest.fixture
def parent(db):
    return Person("parent")


@pytest.fixture
def child(parent):
    person = Person("child")
    user_manager_set(user=person.user, manager=parent.user)
    return person


def call(sunbird, method, path, body, *, user_token, acting_for):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {sunbird.client_key}", "HTTP_X_AUTHENTICATED_USER_TOKEN": user_token}
    if acting_for is not None:
        headers["HTTP_X_AUTHENTICATED_FOR"] = acting_for
    payload = json.dumps(body) if body is not None else None
    response = getattr(sunbird.http, method)(path, data=payload, content_type="application/json", **headers)
    return response.status_code, response.json()


def child_group(child) -> Group:
    from apps.groups.services import group_create

    return group_create(actor=child.user, name="Child's").group


def requests_of(group: Group, child) -> dict:
    """One request per Sunbird endpoint, each allowed to the child (the group's creator and admin)."""
    group_id = str(group.public_id)
    return {
        "create": ("post", "/api/group/v1/create", {"request": {"name": "Made for the child"}}),
        "read": ("get", f"/api/group/v1/read/{group_id}?fields=members", None),
        "update": ("patch", "/api/group/v1/update", {"request": {"groupId": group_id, "name": "Renamed"}}),
        "list": ("post", "/api/group/v1/list", {"request": {"filters": {"userId": child.id}}}),
        "membership": (
            "patch",
            "/api/group/membership/v1/update",
            {"request": {"userId": child.id, "groups": [{"groupId": group_id, "visited": True}]}},
        ),
        "delete": ("post", "/api/group/v1/delete", {"request": {"groupId": group_id}}),
    }


ENDPOINTS = ("create", "read", "update", "list", "membership", "delete")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_manager_acts_as_the_managed_account_on_every_endpoint(sunbird, parent, child, endpoint):
    group = child_group(child)
    method, path, body = requests_of(group, child)[endpoint]

    status, answer = call(sunbird, method, path, body, user_token=parent.token, acting_for=child.token)

    assert status == 200, answer
    assert answer["params"] is None
    if endpoint == "create":
        made = Group.objects.get(public_id=answer["result"]["groupId"])
        assert made.created_by == child.user
        assert list(Membership.objects.filter(group=made).values_list("user__username", flat=True)) == ["child"]
    if endpoint == "list":
        assert [g["id"] for g in answer["result"]["group"]] == [str(group.public_id)]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_token_for_an_account_the_caller_does_not_manage_is_a_401(sunbird, parent, child, endpoint):
    stranger = Person("stranger")
    group = child_group(child)
    method, path, body = requests_of(group, child)[endpoint]

    for user_token, acting_for in [(stranger.token, child.token), (parent.token, "not-a-token"),
                                   (child.token, parent.token)]:  # fmt: skip
        status, answer = call(sunbird, method, path, body, user_token=user_token, acting_for=acting_for)

        assert (status, answer) == (401, UNAUTHORIZED | {"id": answer["id"]})
    assert Group.objects.filter(name="Made for the child").count() == 0
    assert Group.objects.get(pk=group.pk).name == "Child's"


def test_without_the_header_the_manager_acts_as_themselves(sunbird, parent, child):
    status, answer = call(
        sunbird, "post", "/api/group/v1/create", {"request": {"name": "Parent's"}}, user_token=parent.token,
        acting_for=None,
    )  # fmt: skip

    assert status == 200
    assert Group.objects.get(public_id=answer["result"]["groupId"]).created_by == parent.user


def test_the_command_sets_and_clears_a_manager(parent):
    child = Person("child2")

    call_command("set_user_manager", "--username", "child2", "--manager", "parent")
    child.user.refresh_from_db()
    assert child.user.managed_by == parent.user

    call_command("set_user_manager", "--username", "child2", "--clear")
    child.user.refresh_from_db()
    assert child.user.managed_by is None


@pytest.mark.parametrize(
    ("username", "manager"),
    [("child3", "child3"), ("child3", "nobody-here"), ("nobody-here", "parent")],
)
def test_the_command_refuses_what_cannot_be(parent, username, manager):
    Person("child3")

    with pytest.raises(CommandError):
        call_command("set_user_manager", "--username", username, "--manager", manager)


def test_managed_accounts_are_one_level_deep(parent, child):
    grandchild = Person("grandchild")

    with pytest.raises(Exception, match="managed account cannot manage"):
        user_manager_set(user=grandchild.user, manager=child.user)
    with pytest.raises(Exception, match="manages other accounts"):
        user_manager_set(user=parent.user, manager=Person("someone").user)
