"""A group written through one dialect reads consistently through the others."""

import pytest
from django.utils import timezone

from apps.common.testing.factories import UserFactory, api_key_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    app_key = api_key_for(UserFactory(username="portal-app"))
    user = UserFactory(username="teacher")
    return app_key, user, api_key_for(user)


def test_a_group_created_through_sunbird_reads_the_same_in_the_native_api(api_client, people):
    app_key, user, user_key = people
    sunbird_headers = {"HTTP_AUTHORIZATION": f"Bearer {app_key}", "HTTP_X_AUTHENTICATED_USER_TOKEN": user_key}
    created = api_client.post(
        "/api/group/v1/create",
        {"request": {"name": "Maths", "description": "Algebra", "activities": [{"id": "do_1", "type": "Course"}]}},
        format="json",
        **sunbird_headers,
    ).json()["result"]["groupId"]
    api_client.patch(
        "/api/group/v1/update",
        {"request": {"groupId": created, "status": "suspended"}},
        format="json",
        **sunbird_headers,
    )

    native = api_client.get(f"/api/v1/groups/{created}/", HTTP_AUTHORIZATION=f"Token {user_key}").json()
    activities = api_client.get("/api/v1/activities/", {"group": created}, HTTP_AUTHORIZATION=user_key).json()

    assert (native["id"], native["name"], native["description"], native["status"]) == (
        created,
        "Maths",
        "Algebra",
        "suspended",
    )
    assert (native["created_by"], native["membership_type"], native["member_count"]) == (
        str(user.public_id),
        "invite_only",
        1,
    )
    assert [(a["activity_id"], a["activity_type"]) for a in activities["results"]] == [("do_1", "Course")]


def test_a_group_created_through_the_native_api_reads_the_same_in_sunbird(api_client, people):
    app_key, user, user_key = people
    native = api_client.post(
        "/api/v1/groups/",
        {"name": "Physics", "description": "Optics", "membership_type": "moderated"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {user_key}",
    ).json()

    read = api_client.get(
        f"/api/group/v1/read/{native['id']}?fields=members",
        HTTP_AUTHORIZATION=f"Bearer {app_key}",
        HTTP_X_AUTHENTICATED_USER_TOKEN=user_key,
    ).json()["result"]

    assert (read["id"], read["name"], read["description"], read["membershipType"], read["status"]) == (
        native["id"],
        "Physics",
        "Optics",
        "moderated",
        "active",
    )
    assert [(m["userId"], m["role"]) for m in read["members"]] == [(str(user.public_id), "admin")]


def test_a_group_suspended_through_sunbird_is_counted_as_pending_by_ckan(api_client, people):
    app_key, user, user_key = people
    user.is_superuser = True
    user.save()
    sunbird_headers = {"HTTP_AUTHORIZATION": f"Bearer {app_key}", "HTTP_X_AUTHENTICATED_USER_TOKEN": user_key}
    group_id = api_client.post(
        "/api/group/v1/create", {"request": {"name": "Maths"}}, format="json", **sunbird_headers
    ).json()["result"]["groupId"]
    api_client.patch(
        "/api/group/v1/update",
        {"request": {"groupId": group_id, "status": "suspended"}},
        format="json",
        **sunbird_headers,
    )
    today = timezone.now().date().isoformat()

    def count(condition: dict) -> int:
        body = {
            "query": [{"query_group": [condition]}],
            "start_date": today,
            "end_date": today,
            "date_field": "created",
        }
        return api_client.post(
            "/api/3/action/get_group_count", body, format="json", HTTP_X_CKAN_API_KEY=user_key
        ).json()["result"]["count"]

    assert count({"state": "pending"}) == 1
    assert count({"id": group_id, "operator": "="}) == 1
    assert count({"title": "Maths"}) == 1
    assert count({"state": "active"}) == 0


def test_a_deleted_group_is_gone_from_every_dialects_reads(api_client, people):
    app_key, user, user_key = people
    user.is_superuser = True
    user.save()
    member = UserFactory(username="learner")
    sunbird_headers = {"HTTP_AUTHORIZATION": f"Bearer {app_key}", "HTTP_X_AUTHENTICATED_USER_TOKEN": user_key}
    native_headers = {"HTTP_AUTHORIZATION": f"Token {user_key}"}
    group_id = api_client.post(
        "/api/group/v1/create",
        {
            "request": {
                "name": "Maths",
                "members": [{"userId": str(member.public_id), "role": "member"}],
                "activities": [{"id": "do_1", "type": "Course"}],
            }
        },
        format="json",
        **sunbird_headers,
    ).json()["result"]["groupId"]
    deleted = api_client.post(
        "/api/group/v1/delete", {"request": {"groupId": group_id}}, format="json", **sunbird_headers
    )
    today = timezone.now().date().isoformat()

    sunbird_read = api_client.get(f"/api/group/v1/read/{group_id}", **sunbird_headers).json()
    sunbird_list = api_client.post(
        "/api/group/v1/list",
        {"request": {"filters": {"userId": str(member.public_id)}}},
        format="json",
        **sunbird_headers,
    ).json()
    native_detail = api_client.get(f"/api/v1/groups/{group_id}/", **native_headers)
    native_lists = [
        api_client.get(path, params, **native_headers).json()
        for path, params in [
            ("/api/v1/groups/", {}),
            ("/api/v1/groups/", {"member": str(member.public_id)}),
            ("/api/v1/memberships/", {"group": group_id}),
            ("/api/v1/memberships/", {"user": str(member.public_id)}),
            ("/api/v1/activities/", {"group": group_id}),
        ]
    ]
    ckan_counts = {
        state: api_client.post(
            "/api/3/action/get_group_count",
            {
                "query": [{"query_group": [{"id": group_id}]}, {"query_group": [{"state": state}]}],
                "start_date": today,
                "end_date": today,
                "date_field": "created",
            },
            format="json",
            HTTP_X_CKAN_API_KEY=user_key,
        ).json()["result"]["count"]
        for state in ("active", "pending", "deleted")
    }

    assert deleted.status_code == 200
    assert sunbird_read["params"]["err"] == "GS_RED07"
    assert sunbird_list["result"] == {"group": []}
    assert native_detail.status_code == 404
    assert [body["count"] for body in native_lists] == [0, 0, 0, 0, 0]
    # CKAN's statistics count past groups by design, under their own state "deleted" only.
    assert ckan_counts == {"active": 0, "pending": 0, "deleted": 1}
