"""Every kind of write, through each API and the admin, leaves audit log entries: who, what, from which key and
address. The log is open to staff only."""

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.common.models import ApiKey, AuditLogEntry
from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for
from apps.groups.models import Activity, Group, Membership
from apps.groups.tests.factories import GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db
CREATE, UPDATE, DELETE = AuditLogEntry.Action.CREATE, AuditLogEntry.Action.UPDATE, AuditLogEntry.Action.DELETE


def _entries(model) -> list[tuple]:
    rows = AuditLogEntry.objects.filter(content_type__model=model._meta.model_name).order_by("id")
    return [(entry.action, entry.actor, entry.api_key, entry.remote_addr) for entry in rows]


def _changed(model, action) -> list[dict]:
    rows = AuditLogEntry.objects.filter(content_type__model=model._meta.model_name, action=action).order_by("id")
    return [entry.changes_dict for entry in rows]


def test_native_writes_are_logged_with_the_actor_key_and_address(api_client):
    # given a user's key
    user, learner = UserFactory(), UserFactory()
    raw_key = api_key_for(user)
    key = ApiKey.objects.get(user=user)
    headers = {"HTTP_AUTHORIZATION": f"Token {raw_key}", "REMOTE_ADDR": "203.0.113.7"}

    # when they create a group, add a member and an activity, then remove both
    group_id = api_client.post("/api/v1/groups/", {"name": "Audited"}, format="json", **headers).json()["id"]
    group = Group.objects.get(public_id=group_id)
    body = {"group": group_id, "user": str(learner.public_id)}
    membership = api_client.post("/api/v1/memberships/", body, format="json", **headers).json()["id"]
    activity_body = {"group": group_id, "activity_id": "course-v1:A+B+C", "activity_type": "Course"}
    activity = api_client.post("/api/v1/activities/", activity_body, format="json", **headers).json()["id"]
    api_client.delete(f"/api/v1/memberships/{membership}/", **headers)
    api_client.delete(f"/api/v1/activities/{activity}/", **headers)
    api_client.patch(f"/api/v1/groups/{group_id}/", {"description": "now described"}, format="json", **headers)

    # then every write is an entry naming the user, the key and the address
    by_them = (user, key, "203.0.113.7")
    assert _entries(Group)[0] == (CREATE, *by_them)
    assert set(_entries(Group)[1:]) == {(UPDATE, *by_them)}
    assert _entries(Membership) == [(CREATE, *by_them), (CREATE, *by_them), (UPDATE, *by_them)]
    assert _entries(Activity) == [(CREATE, *by_them), (DELETE, *by_them)]
    assert _changed(Membership, UPDATE)[0]["status"] == ["active", "inactive"]
    assert _changed(Group, UPDATE)[-1]["description"] == ["", "now described"]
    assert group.memberships.count() == 2


def test_sunbird_writes_are_logged_with_the_acting_user_and_the_client_key():
    # given an application's key acting for a user
    portal, admin, member = UserFactory(username="portal"), UserFactory(), UserFactory()
    client_key = api_key_for(portal)
    http = APIClient()
    headers = {
        "HTTP_AUTHORIZATION": f"Bearer {client_key}",
        "HTTP_X_AUTHENTICATED_USER_TOKEN": api_key_for(admin),
        "REMOTE_ADDR": "198.51.100.4",
    }
    member_headers = {**headers, "HTTP_X_AUTHENTICATED_USER_TOKEN": api_key_for(member)}
    create = {"request": {"name": "Class", "members": [{"userId": str(member.public_id), "role": "member"}]}}

    # when the user creates a group with a member, promotes it, and the member marks the group visited
    response = http.post("/api/group/v1/create", create, format="json", **headers)
    group_id = response.json()["result"]["groupId"]
    edit = {"groupId": group_id, "members": {"edit": [{"userId": str(member.public_id), "role": "admin"}]}}
    http.patch("/api/group/v1/update", {"request": edit}, format="json", **headers)
    visit = {"userId": str(member.public_id), "groups": [{"groupId": group_id, "visited": True}]}
    http.patch("/api/group/membership/v1/update", {"request": visit}, format="json", **member_headers)
    http.post("/api/group/v1/delete", {"request": {"groupId": group_id}}, format="json", **headers)

    # then the entries name the acting user and the application's key
    portal_key = ApiKey.objects.get(user=portal)
    assert _entries(Membership) == [
        (CREATE, admin, portal_key, "198.51.100.4"),
        (CREATE, admin, portal_key, "198.51.100.4"),
        (UPDATE, admin, portal_key, "198.51.100.4"),
        (UPDATE, member, portal_key, "198.51.100.4"),
    ]
    assert [change.get("role") for change in _changed(Membership, UPDATE)] == [["member", "admin"], None]
    assert _changed(Membership, UPDATE)[1]["visited"] == ["False", "True"]
    assert _changed(Group, UPDATE)[-1]["status"] == ["active", "inactive"]


def test_ckan_and_analytics_reads_write_nothing_to_the_log(api_client, sysadmin_key):
    before = AuditLogEntry.objects.count()

    api_client.post("/api/3/action/get_group_count", {}, format="json", HTTP_AUTHORIZATION=sysadmin_key)
    api_client.get("/api/v0/courses/course-v1:A+B+C/enrollment/", HTTP_AUTHORIZATION=f"Token {sysadmin_key}")

    assert AuditLogEntry.objects.count() == before


def test_admin_writes_are_logged_with_the_staff_user_and_no_key(client):
    staff, group = SysadminFactory(), GroupFactory(name="Before")
    client.force_login(staff)

    change = client.get(reverse("admin:groups_group_change", args=[group.pk]))
    form = change.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data |= {"name": "After", "other": "{}"}
    client.post(reverse("admin:groups_group_change", args=[group.pk]), {**data, **_inline_management(change)})

    assert (_entries(Group)[-1][:3]) == (UPDATE, staff, None)
    assert _changed(Group, UPDATE)[-1]["name"] == ["Before", "After"]


def _inline_management(response) -> dict:
    data = {}
    for formset in response.context.get("inline_admin_formsets", []):
        management = formset.formset.management_form
        data |= {management.add_prefix(name): value for name, value in management.initial.items()}
    return data


def test_the_log_is_open_to_staff_and_closed_to_others(client):
    MembershipFactory()
    staff = UserFactory(is_staff=True)
    learner = UserFactory()
    log = reverse("admin:common_auditlogentry_changelist")

    client.force_login(staff)
    staff_page = client.get(log)
    client.force_login(learner)
    learner_page = client.get(log)

    assert staff_page.status_code == 200
    assert "Created" in staff_page.content.decode() or "create" in staff_page.content.decode()
    assert learner_page.status_code == 302


def test_an_ingest_through_the_api_is_one_entry_with_its_counts(api_client):
    staff = SysadminFactory()
    raw_key = api_key_for(staff)
    event = {"username": "ada", "event_type": "edx.course.enrollment.activated", "time": "2026-01-01T00:00:00Z"}

    api_client.post(
        "/api/v0/ingest/events",
        json.dumps([event]),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {raw_key}",
        REMOTE_ADDR="192.0.2.9",
    )

    entry = AuditLogEntry.objects.get(content_type__model="trackingevent")
    assert (entry.action, entry.actor, entry.api_key, entry.remote_addr) == (
        CREATE,
        staff,
        ApiKey.objects.get(user=staff),
        "192.0.2.9",
    )
    assert entry.object_pk == "request"
    assert set(entry.changes_dict) == {"lines", "added", "skipped", "malformed"}
    assert entry.changes_dict["lines"] == [None, "1"]
