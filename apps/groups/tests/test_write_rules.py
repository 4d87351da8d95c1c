"""Who may point a group at what: a parent the caller administers, an owner other than the caller only for staff.
The rule lives in apps.groups.services, so every dialect that sets these meets it."""

import pytest

from apps.common.exceptions import PermissionDeniedError, ServiceError
from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for
from apps.groups import services
from apps.groups.models import Group, GroupStatus, MemberRole, MemberStatus
from apps.groups.tests.factories import GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def caller():
    return UserFactory(username="caller")


def _parent(caller, relation: str) -> Group:
    """A group in `relation` to the caller: its admin, a plain member, an admin who left, or a stranger."""
    group = GroupFactory()
    if relation == "admin":
        MembershipFactory(group=group, user=caller, role=MemberRole.ADMIN)
    elif relation == "member":
        MembershipFactory(group=group, user=caller, role=MemberRole.MEMBER)
    elif relation == "former-admin":
        MembershipFactory(group=group, user=caller, role=MemberRole.ADMIN, status=MemberStatus.INACTIVE)
    return group


@pytest.mark.parametrize("relation", ["member", "former-admin", "stranger"])
def test_a_group_cannot_be_attached_under_a_parent_the_caller_does_not_administer(caller, relation):
    parent = _parent(caller, relation)

    with pytest.raises(PermissionDeniedError) as refused:
        services.group_create(actor=caller, name="child", parent=parent)
    mine = services.group_create(actor=caller, name="mine").group
    with pytest.raises(PermissionDeniedError):
        services.group_update(actor=caller, group_id=mine.public_id, changes={"parent": parent})

    assert (refused.value.code, refused.value.field) == ("not_parent_admin", "parent")
    assert not Group.objects.filter(name="child").exists()
    assert Group.objects.get(pk=mine.pk).parent is None


def test_an_administered_parent_is_accepted_and_staff_attach_anywhere(caller):
    parent = _parent(caller, "admin")
    stranger_group = _parent(caller, "stranger")

    child = services.group_create(actor=caller, name="child", parent=parent).group
    staff_child = services.group_create(actor=SysadminFactory(), name="staff", parent=stranger_group).group

    assert (child.parent, staff_child.parent) == (parent, stranger_group)


def test_a_deleted_parent_is_refused(caller):
    parent = _parent(caller, "admin")
    Group.objects.filter(pk=parent.pk).update(status=GroupStatus.INACTIVE)
    parent.refresh_from_db()

    with pytest.raises(ServiceError) as refused:
        services.group_create(actor=caller, name="child", parent=parent)

    assert refused.value.code == "parent_not_found"


@pytest.mark.parametrize("owner_kind", ["another-user", "nobody"])
def test_only_staff_give_a_group_an_owner_other_than_themselves(caller, owner_kind):
    owner = UserFactory() if owner_kind == "another-user" else None

    with pytest.raises(PermissionDeniedError) as refused:
        services.group_create(actor=caller, name="planted", owner=owner)
    mine = services.group_create(actor=caller, name="mine").group
    with pytest.raises(PermissionDeniedError):
        services.group_update(actor=caller, group_id=mine.public_id, changes={"owner": owner})
    by_staff = services.group_create(actor=SysadminFactory(), name="staff", owner=owner).group

    assert refused.value.code == "not_owner"
    assert Group.objects.get(pk=mine.pk).owner == caller
    assert by_staff.owner == owner


def test_the_caller_may_name_themselves_owner(caller):
    assert services.group_create(actor=caller, name="mine", owner=caller).group.owner == caller


def test_native_api_answers_the_rules_in_its_shape(api_client, caller):
    headers = {"HTTP_AUTHORIZATION": f"Token {api_key_for(caller)}"}
    stranger_group, someone = _parent(caller, "stranger"), UserFactory()
    bodies = [{"name": "c", "parent": str(stranger_group.public_id)}, {"name": "c", "owner": str(someone.public_id)}]

    answers = [api_client.post("/api/v1/groups/", body, format="json", **headers) for body in bodies]
    mine = api_client.post("/api/v1/groups/", {"name": "mine"}, format="json", **headers).json()
    patches = [api_client.patch(f"/api/v1/groups/{mine['id']}/", {k: v}, format="json", **headers)
               for body in bodies for k, v in body.items() if k != "name"]  # fmt: skip

    assert [(r.status_code, r.json()["code"], r.json()["field"]) for r in answers + patches] == [
        (403, "not_parent_admin", "parent"),
        (403, "not_owner", "owner"),
        (403, "not_parent_admin", "parent"),
        (403, "not_owner", "owner"),
    ]
    assert Group.objects.count() == 2
