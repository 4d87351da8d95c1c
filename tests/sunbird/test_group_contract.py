"""Contract cases 1-24 of the Sunbird group service (reference notes, part A), each on the whole envelope."""

import pytest
from django.test import override_settings

from apps.common.testing.matchers import SUNBIRD_TS, UUID
from apps.groups.models import Activity, Group, GroupStatus, Membership

CREATE, UPDATE, LIST, DELETE = (
    "/api/group/v1/create",
    "/api/group/v1/update",
    "/api/group/v1/list",
    "/api/group/v1/delete",
)
MEMBERSHIP = "/api/group/membership/v1/update"
CONTACT = "Contact your system administrator."


def read_path(group_id: str, fields: str | None = None) -> str:
    return f"/api/group/v1/read/{group_id}" + (f"?fields={fields}" if fields is not None else "")


def ok(api_id: str, result: dict) -> dict:
    return {"id": api_id, "ver": "v1", "ts": SUNBIRD_TS, "params": None, "responseCode": 200, "result": result}


def failed(api_id: str, err: str, errmsg: str, status: int) -> dict:
    params = {"resmsgid": None, "msgid": UUID, "err": err, "status": "failed", "errmsg": errmsg}
    return {"id": api_id, "ver": None, "ts": SUNBIRD_TS, "params": params, "responseCode": status, "result": {}}


def create(sunbird, person, **request) -> str:
    status, body = sunbird.call("post", CREATE, {"request": {"name": "Maths", **request}}, user_token=person.token)
    assert status == 200, body
    return body["result"]["groupId"]


def add_members(sunbird, admin, group_id, *people):
    members = {"add": [{"userId": person.id} for person in people]}
    status, body = sunbird.call(
        "patch", UPDATE, {"request": {"groupId": group_id, "members": members}}, user_token=admin.token
    )
    assert (status, body["result"]) == (200, {"response": "success"}), body


INVALID_CREATE = ("GS_CRT02", f"Failed to create group, fields are missing or invalid in the request. {CONTACT}", 400)
INVALID_UPDATE = ("GS_UDT02", f"Failed to update group, fields are missing or invalid in the request. {CONTACT}", 400)
INVALID_LIST = ("GS_LST02", f"Failed to list groups, fields are missing or invalid in the request. {CONTACT}", 400)


# 1
def test_create_returns_the_group_id_and_the_creator_is_its_admin(sunbird, u1):
    status, body = sunbird.call("post", CREATE, {"request": {"name": "Maths"}}, user_token=u1.token)

    assert (status, body) == (200, ok("api.group.create", {"groupId": UUID}))
    status, read = sunbird.call("get", read_path(body["result"]["groupId"], "members"), user_token=u1.token)
    assert read["result"] == {
        "id": body["result"]["groupId"],
        "name": "Maths",
        "status": "active",
        "membershipType": "invite_only",
        "createdOn": SUNBIRD_TS,
        "createdBy": u1.id,
        "updatedOn": SUNBIRD_TS,
        "updatedBy": u1.id,
        "members": [
            {
                "userId": u1.id,
                "groupId": body["result"]["groupId"],
                "role": "admin",
                "status": "active",
                "createdOn": SUNBIRD_TS,
                "createdBy": u1.id,
                "updatedOn": None,
                "updatedBy": None,
                "removedOn": None,
                "removedBy": None,
                "visited": True,
                "name": "Uone Tester",
            }
        ],
    }


# 2
@pytest.mark.parametrize("token", [None, "tly_not-a-key", "garbage.jwt.value"])
def test_create_without_a_valid_user_token_is_unauthorized(sunbird, token):
    status, body = sunbird.call("post", CREATE, {"request": {"name": "Maths"}}, user_token=token)

    message = "You are an unauthorized.Contact your system administrator"
    assert (status, body) == (401, failed("api.group.create", "GS_UNAUTHORIZED", message, 401))
    assert not Group.objects.exists()


def test_an_invalid_client_key_is_unauthorized(sunbird, u1):
    sunbird.client_key = "tly_unknown"

    status, body = sunbird.call("post", CREATE, {"request": {"name": "Maths"}}, user_token=u1.token)

    assert (status, body["params"]["err"]) == (401, "GS_UNAUTHORIZED")


# 3, 4, 5, 6
@pytest.mark.parametrize(
    "body",
    [
        {"request": {}},
        {},
        {"request": "Maths"},
        {"request": {"name": "  "}},
        {"request": {"name": 42}},
        {"request": {"name": "Maths", "members": [{"userId": "U2", "role": "owner"}]}},
        {"request": {"name": "Maths", "members": {"userId": "U2"}}},
        {"request": {"name": "Maths", "members": [{"userId": "U2", "status": "gone"}]}},
        {"request": {"name": "Maths", "activities": [{"id": "do_1"}]}},
        {"request": {"name": "Maths", "activities": [{"id": "", "type": "Course"}]}},
        {"request": {"name": "x" * 256}},
    ],
    ids=[
        "empty request",
        "no request",
        "request not an object",
        "blank name",
        "numeric name",
        "bad role",
        "members as object",
        "bad member status",
        "activity without type",
        "blank activity id",
        "name too long",
    ],
)
def test_create_validation_failures(sunbird, u1, body):
    status, response = sunbird.call("post", CREATE, body, user_token=u1.token)

    assert (status, response) == (400, failed("api.group.create", *INVALID_CREATE))
    assert not Group.objects.exists()


def test_a_body_that_is_not_json_is_a_validation_failure(sunbird, u1):
    response = sunbird.http.post(
        CREATE,
        data="{nope",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {sunbird.client_key}",
        HTTP_X_AUTHENTICATED_USER_TOKEN=u1.token,
    )

    assert (response.status_code, response.json()) == (400, failed("api.group.create", *INVALID_CREATE))


# 7
@override_settings(GROUPS_MAX_ACTIVITIES=20)
def test_create_with_too_many_activities_keeps_the_group_without_them(sunbird, u1):
    activities = [{"id": f"do_{n}", "type": "Course"} for n in range(21)]

    status, body = sunbird.call(
        "post", CREATE, {"request": {"name": "Maths", "activities": activities}}, user_token=u1.token
    )

    message = "Failed to add activity, group, exceeded number of permissible activities of 20."
    assert (status, body) == (
        200,
        ok(
            "api.group.create",
            {"groupId": UUID, "error": {"activities": [{"errorCode": "GS_CRT06", "errorMessage": message}]}},
        ),
    )
    assert not Activity.objects.exists()


# 8
@override_settings(GROUPS_MAX_MEMBERS=3)
def test_create_with_too_many_members_keeps_the_group_with_no_members(sunbird, u1, u2, u3):
    extra = [{"userId": person.id} for person in (u2, u3)] + [{"userId": "00000000-0000-0000-0000-000000000001"}]

    status, body = sunbird.call("post", CREATE, {"request": {"name": "Maths", "members": extra}}, user_token=u1.token)

    message = "Failed to add member, group, exceeded number of permissible members of 3."
    assert (status, body) == (
        200,
        ok(
            "api.group.create",
            {"groupId": UUID, "error": {"members": [{"errorCode": "GS_CRT05", "errorMessage": message}]}},
        ),
    )
    assert Group.objects.get().public_id.hex == body["result"]["groupId"].replace("-", "")
    assert not Membership.objects.exists()


@override_settings(GROUPS_MAX_MEMBERS=3, GROUPS_MAX_ACTIVITIES=2)
def test_create_at_the_member_and_activity_limits_keeps_every_one(sunbird, u1, u2, u3):
    members = [{"userId": person.id} for person in (u2, u3)]
    activities = [{"id": f"do_{n}", "type": "Course"} for n in range(2)]

    status, body = sunbird.call(
        "post",
        CREATE,
        {"request": {"name": "Maths", "members": members, "activities": activities}},
        user_token=u1.token,
    )

    assert (status, body) == (200, ok("api.group.create", {"groupId": UUID}))
    assert (Membership.objects.count(), Activity.objects.count()) == (3, 2)


@override_settings(GROUPS_MAX_MEMBERS=3, GROUPS_MAX_ACTIVITIES=2)
def test_update_up_to_the_member_and_activity_limits_keeps_every_one(sunbird, u1, u2, u3):
    group_id = create(sunbird, u1, activities=[{"id": "do_0", "type": "Course"}])
    add_members(sunbird, u1, group_id, u2)
    change = {"members": {"add": [{"userId": u3.id}]}, "activities": {"add": [{"id": "do_1", "type": "Course"}]}}

    status, body = sunbird.call("patch", UPDATE, {"request": {"groupId": group_id, **change}}, user_token=u1.token)

    assert (status, body) == (200, ok("api.group.update", {"response": "success"}))
    assert (Membership.objects.count(), Activity.objects.count()) == (3, 2)


def test_create_with_members_reports_unknown_users_and_adds_the_rest(sunbird, u1, u2):
    members = [{"userId": u2.id, "role": "admin"}, {"userId": "not-a-user"}]

    status, body = sunbird.call("post", CREATE, {"request": {"name": "Maths", "members": members}}, user_token=u1.token)

    assert status == 200
    assert body["result"]["error"] == {"members": [{"userId": "not-a-user", "errorCode": "MEMBER_NOT_FOUND"}]}
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {"uone": "admin", "utwo": "admin"}


# 9
@override_settings(GROUPS_MAX_PER_CREATOR=2)
def test_create_when_the_creator_belongs_to_the_limit_of_groups(sunbird, u1):
    create(sunbird, u1)
    create(sunbird, u1)

    status, body = sunbird.call("post", CREATE, {"request": {"name": "Third"}}, user_token=u1.token)

    message = "Failed to create group, exceeded number of permissible groups of 2."
    assert (status, body) == (400, failed("api.group.create", "GS_CRT04", message, 400))
    assert Group.objects.count() == 2


# 10, 11
def test_read_with_members_and_activities(sunbird, u1, u2):
    group_id = create(sunbird, u1, description="Algebra", activities=[{"id": "do_1", "type": "Course"}])
    add_members(sunbird, u1, group_id, u2)

    status, body = sunbird.call("get", read_path(group_id, "members, activities"), user_token=u2.token)

    assert status == 200
    assert body == ok("api.group.read", body["result"])
    assert body["result"]["description"] == "Algebra"
    assert body["result"]["activities"] == [{"id": "do_1", "type": "Course"}]
    assert [(m["userId"], m["role"], m["status"], m["name"]) for m in body["result"]["members"]] == [
        (u1.id, "admin", "active", "Uone Tester"),
        (u2.id, "member", "active", "Utwo Tester"),
    ]


@pytest.mark.parametrize(
    ("fields", "has_members", "has_activities"),
    [("members", True, False), (None, False, True), ("activities", False, True), ("", False, False)],
)
def test_read_fields_choose_the_parts(sunbird, u1, fields, has_members, has_activities):
    group_id = create(sunbird, u1, activities=[{"id": "do_1", "type": "Course"}])

    _, body = sunbird.call("get", read_path(group_id, fields), user_token=u1.token)

    assert ("members" in body["result"], "activities" in body["result"]) == (has_members, has_activities)


# 12
@pytest.mark.parametrize("group_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_read_an_unknown_group(sunbird, u1, group_id):
    status, body = sunbird.call("get", read_path(group_id), user_token=u1.token)

    message = f"Failed to read details, group not found. {CONTACT}"
    assert (status, body) == (400, failed("api.group.read", "GS_RED07", message, 400))


# 13
def test_list_gives_the_users_groups_admin_roles_first_without_activities(sunbird, u1, u2):
    led_by_u2 = create(sunbird, u2, activities=[{"id": "do_1", "type": "Course"}])
    led_by_u1 = create(sunbird, u1)
    add_members(sunbird, u1, led_by_u1, u2)

    status, body = sunbird.call("post", LIST, {"request": {"filters": {"userId": u2.id}}}, user_token=u1.token)

    group = {
        "name": "Maths",
        "status": "active",
        "membershipType": "invite_only",
        "createdOn": SUNBIRD_TS,
        "updatedOn": SUNBIRD_TS,
    }
    assert (status, body) == (
        200,
        ok(
            "api.group.list",
            {
                "group": [
                    {
                        "id": led_by_u2,
                        **group,
                        "createdBy": u2.id,
                        "updatedBy": u2.id,
                        "memberRole": "admin",
                        "visited": True,
                    },
                    {
                        "id": led_by_u1,
                        **group,
                        "createdBy": u1.id,
                        "updatedBy": u1.id,
                        "memberRole": "member",
                        "visited": False,
                    },
                ]
            },
        ),
    )


def test_list_for_a_user_with_no_groups_is_empty(sunbird, u1, u2):
    status, body = sunbird.call("post", LIST, {"request": {"filters": {"userId": u2.id}}}, user_token=u1.token)

    assert (status, body) == (200, ok("api.group.list", {"group": []}))


# 14
@pytest.mark.parametrize(
    "body",
    [
        {"reuqest": {"userId": "U1"}},
        {"request": {"filters": {}}},
        {"request": {"userId": "U1"}},
        {"request": {"filters": {"userId": " "}}},
    ],
    ids=["seed typo", "empty filters", "no filters", "blank userId"],
)
def test_list_validation_failures(sunbird, u1, body):
    status, response = sunbird.call("post", LIST, body, user_token=u1.token)

    assert (status, response) == (400, failed("api.group.list", *INVALID_LIST))


# 15
def test_update_adds_members_and_reports_existing_ones(sunbird, u1, u2):
    group_id = create(sunbird, u1)
    members = {"add": [{"userId": u2.id}, {"userId": u1.id}]}

    status, body = sunbird.call(
        "patch", UPDATE, {"request": {"groupId": group_id, "members": members}}, user_token=u1.token
    )

    assert (status, body) == (
        200,
        ok(
            "api.group.update",
            {"response": "success", "error": {"members": [{"userId": u1.id, "errorCode": "MEMBER_EXISTS"}]}},
        ),
    )
    assert Membership.objects.get(user=u2.user).role == "member"


def test_members_and_visits_past_one_lookup_are_each_applied(sunbird, u1, u2, u3, monkeypatch):
    # given lookups of one id each, so that every list below takes several
    from apps.common import lookups

    monkeypatch.setattr(lookups, "ID_LOOKUP_SIZE", 1)
    group_id, other_id = create(sunbird, u1), create(sunbird, u1, name="Physics")
    add_members(sunbird, u1, group_id, u2, u3)
    add_members(sunbird, u1, other_id, u2)
    members = {"edit": [{"userId": u2.id, "role": "admin"}, {"userId": "nobody"}], "remove": [u3.id, u1.id + "x"]}
    visits = [{"groupId": group_id, "visited": True}, {"groupId": other_id, "visited": True}]

    updated = sunbird.call("patch", UPDATE, {"request": {"groupId": group_id, "members": members}}, user_token=u1.token)
    visited = sunbird.call("patch", MEMBERSHIP, {"request": {"userId": u2.id, "groups": visits}}, user_token=u2.token)

    assert updated[1]["result"]["error"]["members"] == [
        {"userId": u1.id + "x", "errorCode": "MEMBER_NOT_FOUND"},
        {"userId": "nobody", "errorCode": "MEMBER_NOT_FOUND"},
    ]
    assert visited == (200, ok("api.group.membership.update", {"response": "SUCCESS"}))
    rows = Membership.objects.filter(user__in=[u2.user, u3.user]).order_by("user__username", "group__name")
    assert [(row.user.username, row.group.name, row.role, row.status, row.visited) for row in rows] == [
        ("uthree", "Maths", "member", "inactive", False),
        ("utwo", "Maths", "admin", "active", True),
        ("utwo", "Physics", "member", "active", True),
    ]


# 16
@pytest.mark.parametrize("operation", ["edit", "remove"])
def test_update_edit_or_remove_of_a_non_member(sunbird, u1, u3, operation):
    group_id = create(sunbird, u1)
    members = {"edit": [{"userId": u3.id, "role": "admin"}]} if operation == "edit" else {"remove": [u3.id]}

    status, body = sunbird.call(
        "patch", UPDATE, {"request": {"groupId": group_id, "members": members}}, user_token=u1.token
    )

    assert (status, body) == (
        200,
        ok(
            "api.group.update",
            {"response": "success", "error": {"members": [{"userId": u3.id, "errorCode": "MEMBER_NOT_FOUND"}]}},
        ),
    )


def test_update_partially_applies_the_rest_of_the_request(sunbird, u1, u2):
    group_id = create(sunbird, u1)
    request = {"groupId": group_id, "name": "Algebra", "members": {"add": [{"userId": "nobody"}, {"userId": u2.id}]}}

    status, body = sunbird.call("patch", UPDATE, {"request": request}, user_token=u1.token)

    assert status == 200
    assert body["result"]["error"] == {"members": [{"userId": "nobody", "errorCode": "MEMBER_NOT_FOUND"}]}
    assert Group.objects.get().name == "Algebra"
    assert Membership.objects.filter(user=u2.user, status="active").exists()


# 17
def test_update_by_a_member_who_is_not_admin(sunbird, u1, u2):
    group_id = create(sunbird, u1)
    add_members(sunbird, u1, group_id, u2)

    status, body = sunbird.call("patch", UPDATE, {"request": {"groupId": group_id, "name": "x"}}, user_token=u2.token)

    message = f"Failed to update group, administrator rights required. {CONTACT}"
    assert (status, body) == (401, failed("api.group.update", "GS_UDT09", message, 401))
    assert Group.objects.get().name == "Maths"


def test_activity_changes_need_an_admin_unlike_the_reference(sunbird, u1, u3):
    group_id = create(sunbird, u1)
    activities = {"add": [{"id": "do_9", "type": "Course"}]}

    status, body = sunbird.call(
        "patch", UPDATE, {"request": {"groupId": group_id, "activities": activities}}, user_token=u3.token
    )

    assert (status, body["params"]["err"]) == (401, "GS_UDT09")
    assert not Activity.objects.exists()


# 18
@pytest.mark.parametrize(
    "request_body",
    [
        {"groupId": "G", "members": [{"userId": "U2"}]},
        {"name": "x"},
        {"groupId": "G", "name": " "},
        {"groupId": "G", "activities": {"add": [{"id": "do_1"}]}},
        {"groupId": "G", "activities": {"remove": "do_1"}},
        {"groupId": "G", "activities": [{"id": "do_1", "type": "Course"}]},
    ],
    ids=[
        "members as list",
        "no groupId",
        "blank name",
        "activity without type",
        "remove not a list",
        "activities as list",
    ],
)
def test_update_validation_failures(sunbird, u1, request_body):
    group_id = create(sunbird, u1)
    request_body = {key: (group_id if value == "G" else value) for key, value in request_body.items()}

    status, body = sunbird.call("patch", UPDATE, {"request": request_body}, user_token=u1.token)

    assert (status, body) == (400, failed("api.group.update", *INVALID_UPDATE))


# 19
def test_update_an_unknown_group(sunbird, u1):
    request = {"groupId": "00000000-0000-0000-0000-000000000000", "name": "x"}

    status, body = sunbird.call("patch", UPDATE, {"request": request}, user_token=u1.token)

    message = f"Failed to update, group does not exist. {CONTACT}"
    assert (status, body) == (400, failed("api.group.update", "GS_UDT07", message, 400))


# 20
def test_a_suspended_group_allows_only_exit_reactivation_and_deletion(sunbird, u1, u2):
    group_id = create(sunbird, u1)
    add_members(sunbird, u1, group_id, u2)

    def update(person, **request):
        return sunbird.call("patch", UPDATE, {"request": {"groupId": group_id, **request}}, user_token=person.token)

    suspended = update(u1, status="suspended")
    renamed = update(u1, name="Renamed")
    activity_added = update(u1, activities={"add": [{"id": "do_1", "type": "Course"}]})
    suspended_again = update(u1, status="suspended")
    exited = update(u2, members={"remove": [u2.id]})
    reactivated = update(u1, status="active")

    message = f"group does not active with this group Id {group_id}."
    assert suspended == (200, ok("api.group.update", {"response": "success"}))
    assert renamed == (400, failed("api.group.update", "GS_UDT08", message, 400))
    assert activity_added == (400, failed("api.group.update", "GS_UDT08", message, 400))
    assert suspended_again[1]["params"]["err"] == "GS_UDT08"
    assert exited == (200, ok("api.group.update", {"response": "success"}))
    assert reactivated == (200, ok("api.group.update", {"response": "success"}))
    group = Group.objects.get()
    assert (group.status, group.name) == ("active", "Maths")
    assert Membership.objects.get(user=u2.user).status == "inactive"


def test_any_member_may_leave_an_active_group(sunbird, u1, u2):
    group_id = create(sunbird, u1)
    add_members(sunbird, u1, group_id, u2)

    status, body = sunbird.call(
        "patch", UPDATE, {"request": {"groupId": group_id, "members": {"remove": [u2.id]}}}, user_token=u2.token
    )

    assert (status, body) == (200, ok("api.group.update", {"response": "success"}))
    membership = Membership.objects.get(user=u2.user)
    assert (membership.status, membership.removed_by) == ("inactive", u2.user)


# 21
def test_only_the_creator_sets_a_group_inactive(sunbird, u1, u2):
    group_id = create(sunbird, u1)
    add_members(sunbird, u1, group_id, u2)
    sunbird.call(
        "patch",
        UPDATE,
        {"request": {"groupId": group_id, "members": {"edit": [{"userId": u2.id, "role": "admin"}]}}},
        user_token=u1.token,
    )

    by_other_admin = sunbird.call(
        "patch", UPDATE, {"request": {"groupId": group_id, "status": "inactive"}}, user_token=u2.token
    )
    by_creator = sunbird.call(
        "patch", UPDATE, {"request": {"groupId": group_id, "status": "inactive"}}, user_token=u1.token
    )
    read_after = sunbird.call("get", read_path(group_id), user_token=u1.token)

    assert (by_other_admin[0], by_other_admin[1]["params"]["err"]) == (401, "GS_UDT09")
    assert by_creator == (200, ok("api.group.update", {"response": "success"}))
    assert (read_after[0], read_after[1]["params"]["err"]) == (400, "GS_RED07")
    assert Group.objects.get().status == GroupStatus.INACTIVE


def test_an_unknown_status_is_ignored(sunbird, u1):
    group_id = create(sunbird, u1)

    status, body = sunbird.call(
        "patch", UPDATE, {"request": {"groupId": group_id, "status": "frozen"}}, user_token=u1.token
    )

    assert (status, body) == (200, ok("api.group.update", {"response": "success"}))
    assert Group.objects.get().status == "active"


# 22
@override_settings(GROUPS_MAX_MEMBERS=2)
def test_update_past_the_member_limit_changes_no_member(sunbird, u1, u2, u3):
    group_id = create(sunbird, u1)
    members = {"add": [{"userId": u2.id}, {"userId": u3.id}]}

    status, body = sunbird.call(
        "patch", UPDATE, {"request": {"groupId": group_id, "members": members}}, user_token=u1.token
    )

    message = "Failed to add member, group, exceeded number of permissible members of 2."
    assert (status, body) == (
        200,
        ok(
            "api.group.update",
            {"response": "success", "error": {"members": [{"errorCode": "GS_UDT05", "errorMessage": message}]}},
        ),
    )
    assert Membership.objects.count() == 1


@override_settings(GROUPS_MAX_ACTIVITIES=1)
def test_update_past_the_activity_limit_keeps_the_activities(sunbird, u1):
    group_id = create(sunbird, u1, activities=[{"id": "do_1", "type": "Course"}])
    activities = {"add": [{"id": "do_2", "type": "Course"}, {"id": "do_1", "type": "Course"}]}

    _, body = sunbird.call(
        "patch", UPDATE, {"request": {"groupId": group_id, "activities": activities}}, user_token=u1.token
    )

    assert body["result"]["error"]["activities"][0]["errorCode"] == "GS_UDT06"
    assert list(Activity.objects.values_list("activity_id", flat=True)) == ["do_1"]


def test_adding_an_existing_activity_is_a_silent_no_op(sunbird, u1):
    group_id = create(sunbird, u1, activities=[{"id": "do_1", "type": "Course"}])
    activities = {"add": [{"id": "do_1", "type": "Course"}, {"id": "do_2", "type": "Course"}], "remove": ["do_x"]}

    status, body = sunbird.call(
        "patch", UPDATE, {"request": {"groupId": group_id, "activities": activities}}, user_token=u1.token
    )

    assert (status, body) == (200, ok("api.group.update", {"response": "success"}))
    assert list(Activity.objects.values_list("activity_id", flat=True)) == ["do_1", "do_2"]


# 23
def test_delete_by_creator_only_then_gone(sunbird, u1, u2):
    group_id = create(sunbird, u1)
    add_members(sunbird, u1, group_id, u2)

    by_member = sunbird.call("post", DELETE, {"request": {"groupId": group_id}}, user_token=u2.token)
    by_creator = sunbird.call("post", DELETE, {"request": {"groupId": group_id}}, user_token=u1.token)
    again = sunbird.call("post", DELETE, {"request": {"groupId": group_id}}, user_token=u1.token)
    empty = sunbird.call("post", DELETE, {"request": {}}, user_token=u1.token)

    assert by_member == (
        401,
        failed(
            "api.group.delete",
            "GS_DLT10",
            f"Failed to delete group, only group creators can delete the group. {CONTACT}",
            401,
        ),
    )
    assert by_creator == (200, ok("api.group.delete", {"response": "SUCCESS"}))
    assert again == (
        400,
        failed("api.group.delete", "GS_DLT07", f"Failed to delete group, group does not exist. {CONTACT}", 400),
    )
    assert empty == (
        400,
        failed(
            "api.group.delete",
            "GS_DLT02",
            f"Failed to delete group, fields are missing or invalid in the request. {CONTACT}",
            400,
        ),
    )


# 24
def test_membership_update_is_for_the_user_themself(sunbird, u1, u2):
    group_id = create(sunbird, u1)
    add_members(sunbird, u1, group_id, u2)
    visit = {"request": {"userId": u2.id, "groups": [{"groupId": group_id, "visited": True}]}}
    unauthorized = failed(
        "api.group.membership.update",
        "GS_MBRSHP_UDT01",
        f"Failed to update membership, unauthorised user. {CONTACT}",
        401,
    )

    as_other = sunbird.call("patch", MEMBERSHIP, visit, user_token=u1.token)
    as_self = sunbird.call("patch", MEMBERSHIP, visit, user_token=u2.token)
    with_role = sunbird.call(
        "patch",
        MEMBERSHIP,
        {"request": {"userId": u2.id, "groups": [{"groupId": group_id, "visited": True, "role": "admin"}]}},
        user_token=u2.token,
    )
    no_groups = sunbird.call("patch", MEMBERSHIP, {"request": {"userId": u2.id, "groups": []}}, user_token=u2.token)

    assert as_other == (401, unauthorized)
    assert as_self == (200, ok("api.group.membership.update", {"response": "SUCCESS"}))
    assert with_role == (401, unauthorized)
    assert no_groups == (
        400,
        failed(
            "api.group.membership.update",
            "GS_MBRSHP_UDT02",
            f"Failed to update membership, fields are missing or invalid. {CONTACT}",
            400,
        ),
    )
    membership = Membership.objects.get(user=u2.user)
    assert (membership.visited, membership.role) == (True, "member")


@pytest.mark.parametrize("group_id", ["nope", "1234", "g" * 100, "00000000-0000-0000-0000-00000000000", "{}"])
def test_a_membership_update_naming_no_group_by_a_non_uuid_changes_nothing(sunbird, u2, group_id):
    group_id_of_u2 = create(sunbird, u2)
    visits = [{"groupId": group_id, "visited": True}, {"groupId": group_id_of_u2, "visited": True}]

    status, body = sunbird.call(
        "patch", MEMBERSHIP, {"request": {"userId": u2.id, "groups": visits}}, user_token=u2.token
    )

    assert (status, body["result"]) == (200, {"response": "SUCCESS"})


def test_the_request_version_is_echoed_in_errors_and_the_request_id_is_the_msgid(sunbird, u1):
    response = sunbird.http.post(
        CREATE,
        data='{"ver": "3.0", "request": {}}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {sunbird.client_key}",
        HTTP_X_AUTHENTICATED_USER_TOKEN=u1.token,
        HTTP_X_REQUEST_ID="req-123",
    )

    assert response.json()["ver"] == "3.0"
    assert response.json()["params"]["msgid"] == "req-123"


def test_list_pins_its_queries(sunbird, u1, u2, django_assert_num_queries):
    for _ in range(3):
        add_members(sunbird, u1, create(sunbird, u1), u2)
    sunbird.call("post", LIST, {"request": {"filters": {"userId": u2.id}}}, user_token=u1.token)  # keys touched

    # the client and user keys (one query) + the memberships with their groups, within the POST's transaction (which
    # the test's own transaction turns into a savepoint and its release)
    with django_assert_num_queries(4):
        status, body = sunbird.call("post", LIST, {"request": {"filters": {"userId": u2.id}}}, user_token=u1.token)

    assert (status, len(body["result"]["group"])) == (200, 3)
