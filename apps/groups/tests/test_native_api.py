import pytest

from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for
from apps.common.testing.matchers import ISO_DATETIME, UUID
from apps.groups.models import Group, Membership
from apps.groups.tests.factories import ActivityFactory, GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db
GROUPS = "/api/v1/groups/"


def auth(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {api_key_for(user)}"}


def warm_auth(api_client, user) -> dict:
    """Headers of a key already used once, so that a pinned request does not also record its first use."""
    headers = auth(user)
    api_client.get("/api/v1/auth/whoami/", **headers)
    return headers


def test_create_makes_the_caller_admin_and_returns_the_whole_group(api_client):
    user = UserFactory()

    response = api_client.post(
        GROUPS,
        {"name": "Field trip", "group_type": 2, "other": {"bus": "42"}, "latitude": 43.6},
        format="json",
        **auth(user),
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body == {
        "id": UUID,
        "number": Group.objects.get().pk,
        "parent": None,
        "owner": str(user.public_id),
        "created_by": str(user.public_id),
        "updated_by": str(user.public_id),
        "slug": body["slug"],
        "other": {"bus": "42"},
        "member_count": 1,
        "activity_count": 0,
        "name": "Field trip",
        "description": "",
        "status": "active",
        "membership_type": "invite_only",
        "created_at": ISO_DATETIME,
        "updated_at": ISO_DATETIME,
        "revision_id": UUID,
        "type": "group",
        "approval_status": "approved",
        "image_url": "",
        "landing_page": "dashboard",
        "group_reviewed": False,
        "open_access": False,
        "netl_only": False,
        "project_number": "",
        "vhost": 1,
        "moderation_status": "accepted",
        "group_type": 2,
        "note": "",
        "logo": None,
        "url": "",
        "email": "",
        "host": "",
        "address": "",
        "city": "",
        "province": "",
        "country": "",
        "postal_code": "",
        "latitude": 43.6,
        "longitude": None,
        "custom1": "",
        "starts_at": None,
        "ends_at": None,
    }
    assert body["slug"].startswith("field-trip-")
    assert Membership.objects.get().role == "admin"


def test_list_filters_on_columns_and_pins_its_queries(api_client, django_assert_num_queries):
    user = UserFactory(is_staff=True)  # sees every group
    GroupFactory.create_batch(3, type="workspace", city="Oslo")
    GroupFactory.create_batch(2, type="group")
    headers = warm_auth(api_client, user)

    # key lookup + count + page
    with django_assert_num_queries(3):
        response = api_client.get(GROUPS, {"type": "workspace", "city__icontains": "osl"}, **headers)

    assert response.json()["count"] == 3
    assert api_client.get(GROUPS, {"type__in": "workspace,group"}, **headers).json()["count"] == 5


def test_list_filter_by_member_and_parent(api_client):
    parent = GroupFactory()
    child = GroupFactory(parent=parent)
    member = UserFactory()
    MembershipFactory(group=child, user=member)
    MembershipFactory(group=parent, user=member, status="inactive")
    headers = auth(UserFactory(is_staff=True))

    by_member = api_client.get(GROUPS, {"member": str(member.public_id)}, **headers).json()
    by_parent = api_client.get(GROUPS, {"parent": str(parent.public_id)}, **headers).json()

    assert [row["id"] for row in by_member["results"]] == [str(child.public_id)]
    assert [row["id"] for row in by_parent["results"]] == [str(child.public_id)]


@pytest.mark.parametrize(
    "params",
    [{"created_at__gte": "yesterday"}, {"number": "9" * 30}, {"page_size": "0"}, {"page_size": "501"}],
)
def test_bad_filter_values_are_a_400_in_the_native_error_shape(api_client, params):
    response = api_client.get(GROUPS, params, **auth(UserFactory()))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["errors"]) == set(params)


def test_only_an_admin_changes_a_group_but_staff_change_any(api_client):
    group = GroupFactory()
    MembershipFactory(group=group, user=group.created_by, role="admin")
    stranger, sysadmin = UserFactory(), SysadminFactory()
    url = f"{GROUPS}{group.public_id}/"

    refused = api_client.patch(url, {"name": "Mine now"}, format="json", **auth(stranger))
    by_admin = api_client.patch(url, {"name": "Renamed"}, format="json", **auth(group.created_by))
    by_sysadmin = api_client.patch(url, {"city": "Bergen"}, format="json", **auth(sysadmin))

    assert (refused.status_code, refused.json()["code"]) == (403, "not_group_admin")
    assert by_admin.status_code == 200
    assert by_sysadmin.json()["city"] == "Bergen"
    group.refresh_from_db()
    assert (group.name, group.city) == ("Renamed", "Bergen")


def test_delete_is_for_the_creator_and_makes_the_group_gone(api_client):
    group = GroupFactory()
    url = f"{GROUPS}{group.public_id}/"

    refused = api_client.delete(url, **auth(UserFactory()))
    deleted = api_client.delete(url, **auth(group.created_by))
    after = api_client.get(url, **auth(group.created_by))

    assert (refused.status_code, deleted.status_code, after.status_code) == (403, 204, 404)
    assert Group.objects.get().status == "inactive"


def test_a_parent_cannot_become_its_own_descendant(api_client):
    root = GroupFactory()
    child = GroupFactory(parent=root, created_by=root.created_by)

    response = api_client.patch(
        f"{GROUPS}{root.public_id}/", {"parent": str(child.public_id)}, format="json", **auth(SysadminFactory())
    )

    assert response.status_code == 400
    assert response.json()["field"] == "__all__"


def test_memberships_add_edit_remove_through_the_rules(api_client):
    group = GroupFactory()
    MembershipFactory(group=group, user=group.created_by, role="admin")
    newcomer = UserFactory()
    admin_headers = auth(group.created_by)

    added = api_client.post(
        "/api/v1/memberships/",
        {"group": str(group.public_id), "user": str(newcomer.public_id)},
        format="json",
        **admin_headers,
    )
    again = api_client.post(
        "/api/v1/memberships/",
        {"group": str(group.public_id), "user": str(newcomer.public_id)},
        format="json",
        **admin_headers,
    )
    promoted = api_client.patch(
        f"/api/v1/memberships/{added.json()['id']}/", {"role": "admin"}, format="json", **admin_headers
    )
    removed = api_client.delete(f"/api/v1/memberships/{added.json()['id']}/", **admin_headers)

    assert added.status_code == 201
    assert added.json()["role"] == "member"
    assert (again.status_code, again.json()["code"]) == (409, "member_exists")
    assert promoted.json()["role"] == "admin"
    assert removed.status_code == 204
    assert Membership.objects.get(user=newcomer).status == "inactive"


def test_activities_add_and_remove(api_client):
    group = GroupFactory()
    MembershipFactory(group=group, user=group.created_by, role="admin")
    headers = auth(group.created_by)
    body = {"group": str(group.public_id), "activity_id": "course-v1:edX+DemoX+Demo", "activity_type": "Course"}

    created = api_client.post("/api/v1/activities/", body, format="json", **headers)
    duplicate = api_client.post("/api/v1/activities/", body, format="json", **headers)
    removed = api_client.delete(f"/api/v1/activities/{created.json()['id']}/", **headers)

    assert created.status_code == 201
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "activity_exists")
    assert removed.status_code == 204
    assert not group.activities.exists()


def test_membership_and_activity_lists_pin_their_queries(api_client, django_assert_num_queries):
    group = GroupFactory()
    MembershipFactory.create_batch(5, group=group)
    ActivityFactory.create_batch(5, group=group)
    headers = warm_auth(api_client, UserFactory(is_staff=True))

    with django_assert_num_queries(3):
        assert api_client.get("/api/v1/memberships/", **headers).json()["count"] == 5
    with django_assert_num_queries(3):
        assert api_client.get("/api/v1/activities/", {"group": str(group.public_id)}, **headers).json()["count"] == 5


def test_anonymous_requests_are_refused(api_client):
    response = api_client.get(GROUPS)

    assert (response.status_code, response.json()) == (
        401,
        {"detail": response.json()["detail"], "code": "not_authenticated"},
    )
