"""Who may read and write what, per dialect: a plain key is refused what it may not, a scoped key and staff are
allowed, and every refusal is in the dialect's own shape (docs/operations.md has the table)."""

import json

import pytest
from rest_framework.test import APIClient

from apps.common.models import ApiKey
from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for
from apps.groups.tests.factories import GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db
COURSE_ENROLLMENT = "/api/v0/courses/course-v1:A+B+C/enrollment/"
CONTACT = "Contact your system administrator."


@pytest.fixture
def class_group():
    """A group with an admin and a member, and a stranger who belongs to none."""
    group = GroupFactory(name="Class")
    admin, member = UserFactory(username="teacher"), UserFactory(username="pupil")
    MembershipFactory(group=group, user=admin, role="admin")
    MembershipFactory(group=group, user=member)
    return group, admin, member


def _token(raw_key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {raw_key}"}


# Native


def test_native_lists_only_the_groups_and_members_the_caller_may_see(api_client, class_group):
    group, _, member = class_group
    GroupFactory(name="Elsewhere")
    stranger, staff = UserFactory(), UserFactory(is_staff=True)

    def seen(user, path):
        return sorted(row["id"] for row in api_client.get(path, **_token(api_key_for(user))).json()["results"])

    assert seen(member, "/api/v1/groups/") == [str(group.public_id)]
    assert seen(stranger, "/api/v1/groups/") == []
    assert len(seen(staff, "/api/v1/groups/")) == 2
    assert len(seen(member, "/api/v1/memberships/")) == 2
    assert seen(stranger, "/api/v1/memberships/") == []
    assert len(seen(staff, "/api/v1/memberships/")) == 2


def test_native_a_group_the_caller_may_not_see_is_not_found(api_client, class_group):
    group, *_ = class_group

    response = api_client.get(f"/api/v1/groups/{group.public_id}/", **_token(api_key_for(UserFactory())))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_native_a_key_outside_its_dialects_or_read_only_is_refused_in_the_native_shape(api_client, class_group):
    group, admin, _ = class_group
    sunbird_only = api_key_for(admin, dialects=["sunbird"])
    read_only = api_key_for(admin, read_only=True)

    refused_dialect = api_client.get("/api/v1/groups/", **_token(sunbird_only))
    refused_write = api_client.patch(
        f"/api/v1/groups/{group.public_id}/", {"name": "x"}, format="json", **_token(read_only)
    )
    allowed_read = api_client.get("/api/v1/groups/", **_token(read_only))

    assert refused_dialect.status_code == 403
    assert refused_dialect.json() == {
        "detail": "This API key may not call the native API.",
        "code": "permission_denied",
    }
    assert refused_write.status_code == 403
    assert refused_write.json() == {"detail": "This API key is read-only.", "code": "permission_denied"}
    assert allowed_read.status_code == 200


# Sunbird


def _sunbird(client_key: str, user_key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {client_key}", "HTTP_X_AUTHENTICATED_USER_TOKEN": user_key}


def test_sunbird_members_are_read_by_members_and_staff_only(class_group):
    group, _, member = class_group
    http, portal = APIClient(), api_key_for(UserFactory(username="portal"))
    path = f"/api/group/v1/read/{group.public_id}?fields=members"

    by_member = http.get(path, **_sunbird(portal, api_key_for(member)))
    by_staff = http.get(path, **_sunbird(portal, api_key_for(SysadminFactory())))
    by_stranger = http.get(path, **_sunbird(portal, api_key_for(UserFactory())))
    group_only = http.get(f"/api/group/v1/read/{group.public_id}", **_sunbird(portal, api_key_for(UserFactory())))

    assert len(by_member.json()["result"]["members"]) == 2
    assert len(by_staff.json()["result"]["members"]) == 2
    assert by_stranger.status_code == 401
    assert by_stranger.json()["params"]["err"] == "GS_RED01"
    assert by_stranger.json()["params"]["errmsg"] == f"Failed to read group members, unauthorised user. {CONTACT}"
    assert by_stranger.json()["result"] == {}
    assert group_only.status_code == 200
    assert "members" not in group_only.json()["result"]


def test_sunbird_a_client_key_outside_its_scopes_is_refused_in_the_sunbird_shape(class_group):
    _, admin, member = class_group
    http = APIClient()
    native_only = api_key_for(UserFactory(username="portal"), dialects=["native"])
    read_only = api_key_for(UserFactory(username="viewer"), read_only=True)
    list_body = {"request": {"filters": {"userId": str(member.public_id)}}}

    refused = http.post("/api/group/v1/list", list_body, format="json", **_sunbird(native_only, api_key_for(member)))
    create = {"request": {"name": "New"}}
    refused_write = http.post("/api/group/v1/create", create, format="json", **_sunbird(read_only, api_key_for(admin)))
    allowed_read = http.post("/api/group/v1/list", list_body, format="json", **_sunbird(read_only, api_key_for(member)))

    assert refused.status_code == 401
    assert refused.json()["id"] == "api.group.list"
    assert refused.json()["params"]["err"] == "GS_UNAUTHORIZED"
    assert refused.json()["params"]["errmsg"] == "This API key may not call the sunbird API."
    assert refused_write.status_code == 401
    assert refused_write.json()["params"]["errmsg"] == "This API key is read-only."
    assert allowed_read.status_code == 200


def test_sunbird_a_user_token_that_is_a_key_brings_its_scopes(class_group):
    group, admin, member = class_group
    http, portal = APIClient(), api_key_for(UserFactory(username="portal"))
    read_only_admin = api_key_for(admin, read_only=True)
    native_only_member = api_key_for(member, dialects=["native"])
    update = {"request": {"groupId": str(group.public_id), "name": "Renamed"}}
    list_body = {"request": {"filters": {"userId": str(member.public_id)}}}

    refused_write = http.patch("/api/group/v1/update", update, format="json", **_sunbird(portal, read_only_admin))
    allowed_read = http.post("/api/group/v1/list", list_body, format="json", **_sunbird(portal, read_only_admin))
    refused_dialect = http.post("/api/group/v1/list", list_body, format="json", **_sunbird(portal, native_only_member))
    allowed_write = http.patch("/api/group/v1/update", update, format="json", **_sunbird(portal, api_key_for(admin)))

    assert refused_write.status_code == 401
    assert refused_write.json()["params"]["errmsg"] == "This API key is read-only."
    assert allowed_read.status_code == 200
    assert refused_dialect.status_code == 401
    assert refused_dialect.json()["params"]["errmsg"] == "This API key may not call the sunbird API."
    assert allowed_write.status_code == 200
    group.refresh_from_db()
    assert group.name == "Renamed"


# CKAN


def test_ckan_stats_stay_with_sysadmins_and_a_key_outside_ckan_is_refused(api_client):
    body = json.dumps({"query": [{"query_group": [{"state": "active"}]}], "start_date": "2020-01-01",
                       "end_date": "2020-01-02", "date_field": "created"})  # fmt: skip
    sysadmin = SysadminFactory()

    def call(raw_key):
        return api_client.post(
            "/api/3/action/get_group_count", body, content_type="application/json", HTTP_AUTHORIZATION=raw_key
        )

    plain = call(api_key_for(UserFactory()))
    read_only_sysadmin = call(api_key_for(sysadmin, read_only=True))
    outside = call(api_key_for(sysadmin, dialects=["native"]))

    assert plain.status_code == 403
    assert plain.json()["error"] == {"__type": "Authorization Error", "message": "Access denied: Not authorized"}
    assert read_only_sysadmin.status_code == 200
    assert outside.status_code == 403
    assert outside.json()["error"] == {
        "__type": "Authorization Error",
        "message": "Access denied: This API key may not call the ckan API.",
    }


# Open edX analytics and ingest


def test_course_analytics_are_for_staff_and_analytics_keys(api_client):
    plain = api_client.get(COURSE_ENROLLMENT, **_token(api_key_for(UserFactory())))
    scoped = api_client.get(COURSE_ENROLLMENT, **_token(api_key_for(UserFactory(), analytics=True)))
    staff = api_client.get(COURSE_ENROLLMENT, **_token(api_key_for(UserFactory(is_staff=True))))

    assert plain.status_code == 403
    assert plain.json() == {"detail": "Course analytics are for staff and for API keys with the analytics scope."}
    assert scoped.status_code == 404  # allowed: no rows for the course
    assert staff.status_code == 404


def test_ingest_needs_its_scope_or_staff(api_client):
    def ingest(raw_key):
        return api_client.post("/api/v0/ingest/events", "[]", content_type="application/json", **_token(raw_key))

    plain = ingest(api_key_for(UserFactory()))
    scoped = ingest(api_key_for(UserFactory(), ingest=True))
    staff = ingest(api_key_for(UserFactory(is_staff=True)))

    assert plain.status_code == 403
    assert plain.json() == {
        "detail": "Ingest is for staff and for API keys with the ingest scope.",
        "code": "permission_denied",
    }
    assert (scoped.status_code, staff.status_code) == (200, 200)
    assert ApiKey.objects.filter(ingest=True).count() == 1
