"""Reads of groups, memberships and activities. Inactive (deleted) groups are gone for every dialect."""

import uuid
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from apps.common.exceptions import NotFoundError, PermissionDeniedError
from apps.common.ids import uuid_or_none
from apps.common.models import User
from apps.groups.models import Activity, Form, Group, GroupQuerySet, Membership, MemberStatus


def group_queryset() -> GroupQuerySet:
    """Every group that still exists, with its creator, updater and owner joined (for list endpoints)."""
    return Group.objects.existing().select_related("created_by", "updated_by", "owner")


def group_get(*, group_id: uuid.UUID | str, for_update: bool = False) -> Group:
    """The existing group with this public id; NotFoundError (code group_not_found) otherwise.

    `for_update` locks its row until the transaction ends (services use it to serialise writes to one group).
    """
    public_id = uuid_or_none(group_id)
    groups = group_queryset().select_for_update(of=("self",)) if for_update else group_queryset()
    group = groups.filter(public_id=public_id).first() if public_id else None
    if group is None:
        raise NotFoundError("Group not found.", code="group_not_found")
    return group


def group_members(*, group: Group, reader: User) -> QuerySet[Membership]:
    """Active members of `group`, with their users and audit users joined, oldest first.

    Only for the group's members and staff (Group.objects.visible_to): PermissionDeniedError (not_group_member)
    for anyone else.
    """
    if not Group.objects.visible_to(reader).filter(pk=group.pk).exists():
        raise PermissionDeniedError("Only the group's members may see its members.", code="not_group_member")
    return (
        Membership.objects.active()
        .filter(group=group)
        .select_related("user", "created_by", "updated_by", "removed_by")
        .order_by("id")
    )


def group_activities(*, group: Group) -> QuerySet[Activity]:
    return Activity.objects.filter(group=group).order_by("id")


def membership_queryset(*, reader: User | None) -> QuerySet[Membership]:
    """Memberships (active or removed) of existing groups, of those `reader` may see unless None (a write, which
    the services judge), with their group and users joined."""
    memberships = Membership.objects.of_existing_groups()
    if reader is not None:
        memberships = memberships.of_groups_visible_to(reader)
    return memberships.select_related("group", "user", "created_by", "updated_by", "removed_by")


def activity_queryset(*, reader: User | None) -> QuerySet[Activity]:
    """Activities of existing groups, of those `reader` may see unless None (a write), with their group and creator
    joined."""
    activities = Activity.objects.of_existing_groups()
    if reader is not None:
        activities = activities.of_groups_visible_to(reader)
    return activities.select_related("group", "created_by")


@dataclass(frozen=True)
class MemberGroup:
    group: Group
    role: str
    visited: bool


def group_list_for_member(*, user_id: uuid.UUID | str) -> list[MemberGroup]:
    """The existing groups a user is an active member of, admin roles first, then oldest group first."""
    public_id = uuid_or_none(user_id)
    if public_id is None:
        return []
    memberships = (
        Membership.objects.active()
        .of_existing_groups()
        .filter(user__public_id=public_id)
        .select_related("group", "group__created_by", "group__updated_by")
        .order_by("role", "group__created_at", "group_id")
    )
    return [MemberGroup(group=m.group, role=m.role, visited=m.visited) for m in memberships]


def group_with_counts_queryset(*, reader: User | None) -> QuerySet[Group]:
    """The groups of group_queryset(), of those `reader` may see unless None (a write, which the services judge),
    with the parent joined, annotated with member_count (active members) and activity_count."""
    groups = group_queryset() if reader is None else group_queryset().visible_to(reader)
    return groups.select_related("parent").annotate(
        member_count=Count("memberships", filter=Q(memberships__status=MemberStatus.ACTIVE), distinct=True),
        activity_count=Count("activities", distinct=True),
    )


def form_get(*, type: str, subtype: str, action: str, component: str, framework: str, root_org_id: str) -> Form:
    """The form of (type, subtype, action) that fits best: an exact component, framework and root org before `*`
    (in that order of weight), as Sunbird's form service falls back to its defaults. Keys are case-insensitive."""
    exact = {"component": component, "framework": framework, "root_org_id": root_org_id}
    matches = Q()
    for field, value in exact.items():
        matches &= Q(**{field: value}) | Q(**{field: Form.ANY})
    weight = sum(
        (Case(When(**{field: value}, then=Value(weight)), default=Value(0), output_field=IntegerField())
         for (field, value), weight in zip(exact.items(), (4, 2, 1), strict=True)),
        Value(0),
    )  # fmt: skip
    form = (
        Form.objects.filter(matches, type__iexact=type, subtype__iexact=subtype, action__iexact=action)
        .annotate(weight=weight)
        .order_by("-weight", "id")
        .first()
    )
    if form is None:
        raise NotFoundError(f"No form {type}/{subtype}/{action}.", code="form_not_found")
    return form
