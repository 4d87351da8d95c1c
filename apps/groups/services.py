"""Writes to groups, memberships and activities. One set of rules for every dialect (Sunbird, native, ...).

Rules: the creator becomes admin; admins change the group, its members and its activities; only the creator
deletes or sets inactive; any member may leave; a suspended group allows only leaving, reactivation by an admin
and deletion by the creator. Staff and sysadmins act as admin and creator of every group.
Per-item problems (a member that exists already, a user that does not exist, a limit) do not fail the request:
they are returned in the result and the rest applies.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict, Unpack

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.common.audit import audit_log_created, audit_log_updating
from apps.common.exceptions import PermissionDeniedError, ServiceError
from apps.common.ids import uuid_or_none
from apps.common.lookups import id_lookups
from apps.common.models import User
from apps.groups.models import Activity, Group, GroupItem, GroupStatus, MemberRole, Membership, MemberStatus
from apps.groups.selectors import group_get
from apps.groups.versions import groups_changed_on_commit

MEMBER_EXISTS = "MEMBER_EXISTS"
MEMBER_NOT_FOUND = "MEMBER_NOT_FOUND"
MEMBER_LIMIT = "MEMBER_LIMIT"
ACTIVITY_LIMIT = "ACTIVITY_LIMIT"
ACTIVITY_EXISTS = "ACTIVITY_EXISTS"


class GroupAttributes(TypedDict, total=False):
    """Columns a write may set directly besides the name; the rest are derived (ids, audit columns, tree position,
    revision)."""

    slug: str
    description: str
    status: str
    membership_type: str
    parent: Group | None
    type: str
    approval_status: str
    image_url: str
    owner: User | None
    landing_page: str
    group_reviewed: bool
    open_access: bool
    netl_only: bool
    project_number: str
    vhost: int
    moderation_status: str
    group_type: int
    note: str
    logo: int | None
    url: str
    email: str
    host: str
    address: str
    city: str
    province: str
    country: str
    postal_code: str
    latitude: float | None
    longitude: float | None
    custom1: str
    other: dict[str, Any]
    starts_at: datetime | None
    ends_at: datetime | None


class GroupChanges(GroupAttributes, total=False):
    """What group_update may change: every settable column, the name included."""

    name: str


GROUP_EDITABLE_FIELDS = GroupChanges.__optional_keys__


@dataclass(frozen=True)
class MemberSpec:
    """A member to add (role given or member) or to edit (role and visited changed only when given)."""

    user_id: str
    role: str | None = None
    visited: bool | None = None


@dataclass(frozen=True)
class ActivitySpec:
    activity_id: str
    activity_type: str


@dataclass(frozen=True)
class ItemError:
    """A per-item problem: `code` is one of the constants above; `item` the user id or activity id concerned.

    ACTIVITY_EXISTS is informational: the activity is simply kept, and a dialect may stay silent about it.
    """

    code: str
    item: str | None = None


@dataclass
class GroupWriteResult:
    group: Group
    member_errors: list[ItemError] = field(default_factory=list)
    activity_errors: list[ItemError] = field(default_factory=list)


class GroupSuspendedError(ServiceError):
    default_code = "group_suspended"


class GroupLimitError(ServiceError):
    default_code = "group_limit"


def _is_active_admin(*, actor: User, group: Group) -> bool:
    return Membership.objects.active().filter(group=group, user=actor, role=MemberRole.ADMIN).exists()


def _require_admin(*, actor: User, group: Group) -> None:
    if not actor.is_platform_staff and not _is_active_admin(actor=actor, group=group):
        raise PermissionDeniedError("Administrator rights are required to change this group.", code="not_group_admin")


def _require_creator(*, actor: User, group: Group) -> None:
    if not actor.is_platform_staff and group.created_by_id != actor.pk:
        raise PermissionDeniedError("Only the group's creator may delete it.", code="not_group_creator")


def _users_by_public_id(user_ids: Iterable[str]) -> dict[str, User]:
    """Active users among `user_ids` (public UUIDs as strings); ids that are not UUIDs simply match nobody."""
    valid = {public_id for public_id in map(uuid_or_none, user_ids) if public_id}
    users = id_lookups(get_user_model().objects.filter(is_active=True), lookup="public_id__in", ids=valid)
    return {str(user.public_id): user for part in users for user in part}


def _unique(items: Iterable, key) -> list:
    seen, result = set(), []
    for item in items:
        if key(item) not in seen:
            seen.add(key(item))
            result.append(item)
    return result


def _slug_for(name: str, public_id: uuid.UUID) -> str:
    return f"{slugify(name)[:80] or 'group'}-{public_id.hex[:8]}"


def _member_count_of(actor: User) -> int:
    return Membership.objects.active().of_existing_groups().filter(user=actor).count()


def _authorize_links(*, actor: User, values: GroupAttributes) -> None:
    """Who a group may point at, for every dialect that sets these: its parent must be an existing group that the
    actor administers, and only staff give a group an owner other than themselves."""
    owner = values.get("owner")
    if "owner" in values and owner != actor and not actor.is_platform_staff:
        raise PermissionDeniedError(
            "Only staff may make another user a group's owner.", code="not_owner", field="owner"
        )
    parent = values.get("parent")
    if parent is None:
        return
    if parent.status == GroupStatus.INACTIVE:
        raise ServiceError("The parent group does not exist.", code="parent_not_found", field="parent")
    if not actor.is_platform_staff and not _is_active_admin(actor=actor, group=parent):
        raise PermissionDeniedError(
            "The parent must be a group you administer.", code="not_parent_admin", field="parent"
        )


def _clean(instance: Group | GroupItem, *, exclude: Sequence[str] = ()) -> None:
    """Model validation, raised as a ServiceError naming the first field at fault."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise ServiceError(f"{name}: {' '.join(messages)}", field=name) from exc


@transaction.atomic
def group_create(
    *,
    actor: User,
    name: str,
    members: Sequence[MemberSpec] = (),
    activities: Sequence[ActivitySpec] = (),
    **attributes: Unpack[GroupAttributes],
) -> GroupWriteResult:
    """Create a group whose creator (and owner, unless given) is `actor`, who becomes its first admin.

    Limits (settings): a creator may belong to GROUPS_MAX_PER_CREATOR groups (GroupLimitError past it); when the
    creator plus `members` exceed GROUPS_MAX_MEMBERS the group is created with no members and MEMBER_LIMIT is
    reported; more than GROUPS_MAX_ACTIVITIES activities are dropped with ACTIVITY_LIMIT. Unknown or inactive users
    are reported as MEMBER_NOT_FOUND. Not idempotent: every call creates a group.
    """
    unknown = set(attributes) - GROUP_EDITABLE_FIELDS
    if unknown:
        raise ServiceError(f"Unknown group fields: {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    if attributes.get("status") == GroupStatus.INACTIVE:
        raise ServiceError("A new group cannot be inactive (deleted).", field="status")
    _authorize_links(actor=actor, values=attributes)
    # Serialises concurrent creates by one user, so that the group limit holds.
    get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
    if _member_count_of(actor) >= settings.GROUPS_MAX_PER_CREATOR:
        raise GroupLimitError(
            f"Failed to create group, exceeded number of permissible groups of {settings.GROUPS_MAX_PER_CREATOR}."
        )
    now = timezone.now()
    public_id = uuid.uuid4()
    attributes.setdefault("owner", actor)
    group = Group(
        public_id=public_id,
        name=name,
        slug=attributes.pop("slug", None) or _slug_for(name, public_id),
        created_by=actor,
        updated_by=actor,
        created_at=now,
        updated_at=now,
        **attributes,
    )
    _clean(group)
    group.save()
    result = GroupWriteResult(group=group)

    requested = _unique((spec for spec in members if spec.user_id != str(actor.public_id)), key=lambda s: s.user_id)
    if 1 + len(requested) > settings.GROUPS_MAX_MEMBERS:
        result.member_errors.append(ItemError(MEMBER_LIMIT))
    else:
        Membership.objects.create(
            group=group, user=actor, role=MemberRole.ADMIN, visited=True, created_by=actor, created_at=now
        )
        users = _users_by_public_id(spec.user_id for spec in requested)
        result.member_errors += _members_add(group=group, actor=actor, specs=requested, users=users, now=now)

    unique_activities = _unique(activities, key=lambda spec: spec.activity_id)
    if len(unique_activities) > settings.GROUPS_MAX_ACTIVITIES:
        result.activity_errors.append(ItemError(ACTIVITY_LIMIT))
    else:
        audit_log_created(
            instances=Activity.objects.bulk_create(
                Activity(group=group, activity_id=spec.activity_id, activity_type=spec.activity_type, created_by=actor)
                for spec in unique_activities
            )
        )
    return result


def _members_add(
    *, group: Group, actor: User, specs: Sequence[MemberSpec], users: dict[str, User], now
) -> list[ItemError]:
    """Add `specs` (their users already looked up in `users`); per-item errors for unknown users and members."""
    existing = {
        str(membership.user.public_id): membership
        for membership in Membership.objects.filter(group=group, user__in=users.values()).select_related(
            "user",
            "group",  # the group too: the audit log names each membership by it
        )
    }
    errors, new_rows, revived = [], [], []
    for spec in specs:
        user = users.get(spec.user_id)
        membership = existing.get(spec.user_id)
        if user is None:
            errors.append(ItemError(MEMBER_NOT_FOUND, spec.user_id))
        elif membership is not None and membership.status == MemberStatus.ACTIVE:
            errors.append(ItemError(MEMBER_EXISTS, spec.user_id))
        elif membership is not None:
            membership.status, membership.role, membership.visited = MemberStatus.ACTIVE, spec.role or "member", False
            membership.updated_by, membership.updated_at = actor, now
            membership.removed_by = membership.removed_at = None
            revived.append(membership)
        else:
            new_rows.append(
                Membership(
                    group=group, user=user, role=spec.role or MemberRole.MEMBER, created_by=actor, created_at=now
                )
            )
    audit_log_created(instances=Membership.objects.bulk_create(new_rows))
    revived_fields = ["status", "role", "visited", "updated_by", "updated_at", "removed_by", "removed_at"]
    audit_log_updating(instances=revived, fields=revived_fields)
    Membership.objects.bulk_update(revived, revived_fields)
    return errors


def _active_memberships(group: Group, user_ids: Iterable[str]) -> dict[str, Membership]:
    users = _users_by_public_id(user_ids)
    # The group too: the audit log names each changed membership by it.
    memberships = Membership.objects.active().filter(group=group).select_related("user", "group")
    return {
        str(membership.user.public_id): membership
        for part in id_lookups(memberships, lookup="user__in", ids=users.values())
        for membership in part
    }


def _members_edit(*, group: Group, actor: User, specs: Sequence[MemberSpec], now) -> list[ItemError]:
    memberships = _active_memberships(group, (spec.user_id for spec in specs))
    errors, changed = [], []
    for spec in specs:
        membership = memberships.get(spec.user_id)
        if membership is None:
            errors.append(ItemError(MEMBER_NOT_FOUND, spec.user_id))
            continue
        if spec.role is not None:
            membership.role = spec.role
        if spec.visited is not None:
            membership.visited = spec.visited
        membership.updated_by, membership.updated_at = actor, now
        changed.append(membership)
    edited_fields = ["role", "visited", "updated_by", "updated_at"]
    audit_log_updating(instances=changed, fields=edited_fields)
    Membership.objects.bulk_update(changed, edited_fields)
    return errors


def _members_remove(*, group: Group, actor: User, user_ids: Sequence[str], now) -> list[ItemError]:
    memberships = _active_memberships(group, user_ids)
    errors = [ItemError(MEMBER_NOT_FOUND, user_id) for user_id in user_ids if user_id not in memberships]
    removed = list(memberships.values())
    for membership in removed:
        membership.status, membership.removed_by, membership.removed_at = MemberStatus.INACTIVE, actor, now
        membership.updated_by, membership.updated_at = actor, now
    removed_fields = ["status", "removed_by", "removed_at", "updated_by", "updated_at"]
    audit_log_updating(instances=removed, fields=removed_fields)
    Membership.objects.bulk_update(removed, removed_fields)
    return errors


def _is_exit_only(*, actor: User, changes: GroupChanges, members_add, members_edit, members_remove, activities) -> bool:
    return (
        not changes
        and not members_add
        and not members_edit
        and not any(activities)
        and list(members_remove) == [str(actor.public_id)]
    )


def _authorize_update(*, actor: User, group: Group, changes: GroupChanges, touches_members_or_activities: bool) -> None:
    new_status = changes.get("status")
    if group.status == GroupStatus.SUSPENDED:
        status_only = set(changes) == {"status"} and not touches_members_or_activities
        if not (status_only and new_status in (GroupStatus.ACTIVE, GroupStatus.INACTIVE)):
            raise GroupSuspendedError(f"group does not active with this group Id {group.public_id}.")
    if new_status == GroupStatus.INACTIVE:
        _require_creator(actor=actor, group=group)
    else:
        _require_admin(actor=actor, group=group)


@transaction.atomic
def group_update(
    *,
    actor: User,
    group_id: uuid.UUID | str,
    changes: GroupChanges | None = None,
    members_add: Sequence[MemberSpec] = (),
    members_edit: Sequence[MemberSpec] = (),
    members_remove: Sequence[str] = (),
    activities_add: Sequence[ActivitySpec] = (),
    activities_remove: Sequence[str] = (),
) -> GroupWriteResult:
    """Change a group's fields, members and activities in one transaction, under a lock on the group row.

    The lock makes concurrent member changes queue, so that the member limit holds. A request that only removes
    the actor is an exit and skips every other check. Member operations that would pass GROUPS_MAX_MEMBERS are
    all skipped with MEMBER_LIMIT; activity changes that would pass GROUPS_MAX_ACTIVITIES with ACTIVITY_LIMIT.
    Setting status inactive deletes the group (creator only). Raises NotFoundError, GroupSuspendedError,
    PermissionDeniedError or ServiceError (invalid field) and then changes nothing.
    """
    changes = GroupChanges(**changes) if changes else GroupChanges()
    unknown = set(changes) - GROUP_EDITABLE_FIELDS
    if unknown:
        raise ServiceError(f"Unknown group fields: {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    group = group_get(group_id=group_id, for_update=True)
    members_add = _unique(members_add, key=lambda spec: spec.user_id)
    members_edit = _unique(members_edit, key=lambda spec: spec.user_id)
    members_remove = _unique(members_remove, key=str)
    activities = (activities_add, activities_remove)
    exit_only = _is_exit_only(
        actor=actor, changes=changes, members_add=members_add, members_edit=members_edit,
        members_remove=members_remove, activities=activities,
    )  # fmt: skip
    if not exit_only:
        touches = bool(members_add or members_edit or members_remove or any(activities))
        _authorize_update(actor=actor, group=group, changes=changes, touches_members_or_activities=touches)
        _authorize_links(actor=actor, values=changes)

    now = timezone.now()
    result = GroupWriteResult(group=group)
    if members_add or members_edit or members_remove:
        result.member_errors = _members_change(
            group=group, actor=actor, add=members_add, edit=members_edit, remove=members_remove, now=now
        )
    if any(activities):
        result.activity_errors = _activities_change(
            group=group, actor=actor, add=activities_add, remove=activities_remove
        )
    for name, value in changes.items():
        setattr(group, name, value)
    group.updated_by, group.updated_at, group.revision_id = actor, now, uuid.uuid4()
    _clean(group)
    group.save()
    return result


def _members_change(*, group, actor, add, edit, remove, now) -> list[ItemError]:
    active = Membership.objects.active().filter(group=group)
    active_ids = {str(public_id) for public_id in active.values_list("user__public_id", flat=True)}
    users = _users_by_public_id(spec.user_id for spec in add)
    joining = {spec.user_id for spec in add if spec.user_id in users and spec.user_id not in active_ids}
    leaving = {user_id for user_id in map(str, remove) if user_id in active_ids}
    if len(active_ids) + len(joining) - len(leaving) > settings.GROUPS_MAX_MEMBERS:
        return [ItemError(MEMBER_LIMIT)]
    errors = _members_remove(group=group, actor=actor, user_ids=[str(user_id) for user_id in remove], now=now)
    errors += _members_add(group=group, actor=actor, specs=add, users=users, now=now)
    errors += _members_edit(group=group, actor=actor, specs=edit, now=now)
    return errors


def _activities_change(*, group, actor, add, remove) -> list[ItemError]:
    existing = set(Activity.objects.filter(group=group).values_list("activity_id", flat=True))
    removing = existing & set(remove)
    requested = _unique(add, key=lambda spec: spec.activity_id)
    adding = [spec for spec in requested if spec.activity_id not in existing]
    if len(existing) - len(removing) + len(adding) > settings.GROUPS_MAX_ACTIVITIES:
        return [ItemError(ACTIVITY_LIMIT)]
    Activity.objects.filter(group=group, activity_id__in=removing).delete()  # per-row signals: audited
    audit_log_created(
        instances=Activity.objects.bulk_create(
            Activity(group=group, activity_id=spec.activity_id, activity_type=spec.activity_type, created_by=actor)
            for spec in adding
        )
    )
    return [ItemError(ACTIVITY_EXISTS, spec.activity_id) for spec in requested if spec.activity_id in existing]


@transaction.atomic
def group_delete(*, actor: User, group_id: uuid.UUID | str) -> Group:
    """Delete a group (creator, staff or sysadmin only): it becomes inactive and every dialect treats it as gone.

    The row stays, so that statistics over past groups (CKAN state "deleted") still count it.
    """
    group = group_get(group_id=group_id, for_update=True)
    _require_creator(actor=actor, group=group)
    group.status, group.updated_by, group.updated_at, group.revision_id = (
        GroupStatus.INACTIVE, actor, timezone.now(), uuid.uuid4()
    )  # fmt: skip
    group.save(update_fields=["status", "updated_by", "updated_at", "revision_id"])
    return group


@transaction.atomic
def membership_visited_update(*, actor: User, user_id: str, visits: Sequence[tuple[str, bool]]) -> int:
    """Set `visited` on the actor's own active memberships; only the user may do so. Returns rows changed.

    Groups the actor is not an active member of, and ids that are not UUIDs (which name no group), are skipped.
    """
    if str(actor.public_id) != str(user_id):
        raise PermissionDeniedError("Users may only update their own memberships.", code="not_self")
    now = timezone.now()
    # A groupId that is not a UUID names no group (as an unknown one), and must not reach the UUID column.
    visited_by_group = {
        str(public_id): visited for public_id, visited in ((uuid_or_none(g), v) for g, v in visits) if public_id
    }
    visiting = Membership.objects.active().of_existing_groups().filter(user=actor).select_related("group")
    memberships = [
        membership
        for part in id_lookups(visiting, lookup="group__public_id__in", ids=visited_by_group)
        for membership in part
    ]
    for membership in memberships:
        membership.visited = visited_by_group[str(membership.group.public_id)]
        membership.updated_by, membership.updated_at = actor, now
    visit_fields = ["visited", "updated_by", "updated_at"]
    audit_log_updating(instances=memberships, fields=visit_fields)
    groups_changed_on_commit()  # a bulk update sends no save signal
    return Membership.objects.bulk_update(memberships, visit_fields)


@transaction.atomic
def group_item_create(*, actor: User, model: type[GroupItem], group: Group, **fields: Any) -> GroupItem:
    """Post a media item or a comment into an existing group: active members may, and staff. Only the group's admins
    (and staff) may set its moderation status; anyone else's item starts unmoderated. The counters of the group
    follow through the database triggers."""
    if group.is_gone:
        raise ServiceError("The group does not exist.", code="group_not_found", field="group")
    is_admin = actor.is_platform_staff or _is_active_admin(actor=actor, group=group)
    member = Membership.objects.filter(group=group, user=actor, status=MemberStatus.ACTIVE).exists()
    if not (is_admin or member):
        raise PermissionDeniedError("Only members of the group may post into it.", code="not_group_member")
    if "moderation_status" in fields and not is_admin:
        raise PermissionDeniedError("Only the group's administrators moderate.", code="not_group_admin")
    item = model(group=group, created_by=actor, **fields)
    _clean(item, exclude=["group", "created_by"])
    item.save()
    return item


@transaction.atomic
def group_item_update(*, actor: User, item: GroupItem, changes: dict[str, Any]) -> GroupItem:
    """Change a media item or comment: its poster may change its content, the group's admins (and staff) anything,
    the moderation status only they."""
    is_admin = actor.is_platform_staff or _is_active_admin(actor=actor, group=item.group)
    if not is_admin and ("moderation_status" in changes or item.created_by_id != actor.pk):
        raise PermissionDeniedError("Only the poster or the group's administrators may change it.", code="not_allowed")
    for name, value in changes.items():
        setattr(item, name, value)
    _clean(item, exclude=["group", "created_by"])
    item.save()
    return item


@transaction.atomic
def group_item_delete(*, actor: User, item: GroupItem) -> None:
    """Delete a media item or comment (its poster, the group's admins or staff); the group's counters follow."""
    if not (
        actor.is_platform_staff or item.created_by_id == actor.pk or _is_active_admin(actor=actor, group=item.group)
    ):
        raise PermissionDeniedError("Only the poster or the group's administrators may delete it.", code="not_allowed")
    item.delete()
