"""Reads of groups, memberships and activities. Inactive (deleted) groups are gone for every dialect."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from apps.common.exceptions import NotFoundError, PermissionDeniedError
from apps.common.ids import uuid_or_none
from apps.common.lookups import id_lookups
from apps.common.models import User
from apps.common.versioned_cache import digest, shared_cached
from apps.groups import geo
from apps.groups.geo import Point
from apps.groups.models import (
    EXISTING_GROUP,
    Activity,
    Form,
    Group,
    GroupItem,
    GroupQuerySet,
    GroupType,
    Media,
    Membership,
    MemberStatus,
    ModerationStatus,
    members_visible_to,
)
from apps.groups.versions import GROUPS_VERSION

T = TypeVar("T")


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


def group_read_cached(*, group_id: uuid.UUID | str, name: str, derive: Callable[[Group], T]) -> T:
    """`derive(group)` of the existing group with this public id (NotFoundError otherwise, as group_get): with a
    cache every process shares, computed once per (`name`, group) until a groups write commits (GROUPS_VERSION;
    GROUPS_PAGE_CACHE_SECONDS at most). `derive` must not depend on who reads: the caller checks that."""
    return shared_cached(  # an id that is not a UUID names no group: group_get raises, and nothing is cached
        key=f"groups:read:{name}:{uuid_or_none(group_id)}",
        versions=[GROUPS_VERSION],
        compute=lambda: derive(group_get(group_id=group_id)),
        timeout=settings.GROUPS_PAGE_CACHE_SECONDS,
    )


def _members_refused() -> PermissionDeniedError:
    return PermissionDeniedError("Only the group's members may see its members.", code="not_group_member")


def group_members_require_visible(*, reader: User, active_member_ids: frozenset[int]) -> None:
    """PermissionDeniedError (not_group_member) unless `reader` may see the members (Group.objects.visible_to) of a
    group whose active members are known already."""
    if not members_visible_to(reader, active_member_ids=active_member_ids):
        raise _members_refused()


def group_members(*, group: Group, reader: User | None) -> QuerySet[Membership]:
    """Active members of `group`, with their users and audit users joined, oldest first.

    Only for the group's members and staff (Group.objects.visible_to): PermissionDeniedError (not_group_member)
    for anyone else. `reader` None is a caller that has judged access itself (staff pages, the aggregator).
    """
    if reader is not None and not Group.objects.visible_to(reader).filter(pk=group.pk).exists():
        raise _members_refused()
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


def group_item_queryset(*, model: type[GroupItem], reader: User | None) -> QuerySet[GroupItem]:
    """Media items or comments of existing groups, of those `reader` may see unless None (a write), with their group
    and poster joined."""
    items = model.objects.of_existing_groups()
    if reader is not None:
        items = items.of_groups_visible_to(reader)
    return items.select_related("group", "created_by")


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
    # The active-member count is the counter the database keeps on the group row (migration 0005's triggers).
    return groups.select_related("parent").annotate(
        member_count=F("counted_members"), activity_count=Count("activities")
    )


def form_get(*, type: str, subtype: str, action: str, component: str, framework: str, root_org_id: str) -> Form:
    """The form of (type, subtype, action) that fits best: an exact component, framework and root org before `*`
    (in that order of weight), as Sunbird's form service falls back to its defaults. Keys are case-insensitive."""
    exact = {"component": component, "framework": framework, "root_org_id": root_org_id}
    matches = Q()
    for name, value in exact.items():
        matches &= Q(**{name: value}) | Q(**{name: Form.ANY})
    weight = sum(
        (Case(When(**{name: value}, then=Value(weight)), default=Value(0), output_field=IntegerField())
         for (name, value), weight in zip(exact.items(), (4, 2, 1), strict=True)),
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


# Newspark groups.getGroups / getGroup / getGroupTree. Counts are the triggers' counters on the group row and tree
# order its nested-set numbers, so that a page reads only the rows it shows (docs/api-dialects.md, Newspark).

MODERATION_FILTERS = {
    "accepted": (ModerationStatus.ACCEPTED,),
    "denied": (ModerationStatus.DENIED,),
    "unmoderated": (ModerationStatus.UNMODERATED,),
    "moderated": (ModerationStatus.ACCEPTED, ModerationStatus.DENIED),
    "notdenied": (ModerationStatus.ACCEPTED, ModerationStatus.UNMODERATED),
    "all": (ModerationStatus.ACCEPTED, ModerationStatus.DENIED, ModerationStatus.UNMODERATED),
}
# Sort name -> column; `distance` is the annotation made from geoCenter.
GROUP_SORTS = {
    "created": "created_at",
    "id": "id",
    "membercount": "counted_members",
    "mediacount": "counted_media",
    "approvedmediacount": "counted_media_accepted",
    "notdeniedmediacount": "counted_media_not_denied",
    "name": "name",
    "startdate": "starts_at",
    "enddate": "ends_at",
    "treeleft": "tree_left",
    "distance": "distance",
}
NULLABLE_SORTS = {"starts_at", "ends_at", "distance"}


@dataclass(frozen=True)
class GroupPageQuery:
    """One getGroups request, validated. `group_types` None means every type."""

    vhost: int
    moderation: str = "accepted"
    group_types: tuple[int, ...] | None = (GroupType.GROUP,)
    sort: str = "created"
    descending: bool = True
    start_page: int = 0
    page_size: int = 100
    no_limit: bool = False
    include_total_count: bool = False
    child_group_count: bool = False
    member_id: int | None = None
    creator_id: int | None = None
    custom1: str | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    ends_after: datetime | None = None
    ends_before: datetime | None = None
    geo_center: Point | None = None
    geo_distance: float | None = None
    geo_boundaries: tuple[float, float, float, float] | None = None
    geo_not_null: bool = False
    parent_id: int | None = None
    include_children: bool = True
    media_id: int | None = None
    search_name: str | None = None
    search_description: str | None = None
    search_query: str | None = None


@dataclass(frozen=True)
class GroupPage:
    groups: list[dict]
    total_count: int | None = None
    child_group_count: int | None = None


# The columns a Newspark item shows; rows are read as plain dicts, since a page builds no model instances.
NEWSPARK_COLUMNS = (
    "id", "name", "description", "note", "logo", "url", "created_at", "created_by_id", "counted_members",
    "counted_media", "counted_media_accepted", "counted_media_not_denied", "counted_comments",
    "counted_comments_accepted", "counted_comments_not_denied", "longitude", "latitude", "moderation_status",
    "parent_id", "address", "city", "country", "province", "postal_code", "host", "group_type", "vhost", "other",
    "custom1", "tree_left", "tree_right", "email",
)  # fmt: skip


def _newspark_rows(groups: QuerySet[Group], *extra: str) -> list[dict]:
    """NEWSPARK_COLUMNS and `extra` of each group as a dict, with its logo's size and URLs (Group.logo names a media
    item by id), read in a second query only when a row has a logo."""
    rows = list(groups.values(*NEWSPARK_COLUMNS, *extra))
    logos = Media.objects.values("id", "width", "height", "url", "thumbnail_url")
    logo_ids = {row["logo"] for row in rows if row["logo"]}
    by_id = {logo["id"]: logo for part in id_lookups(logos, lookup="pk__in", ids=logo_ids) for logo in part}
    for row in rows:
        logo: Any = by_id.get(row["logo"], {})
        row.update(
            logo_width=logo.get("width"),
            logo_height=logo.get("height"),
            logo_url=logo.get("url"),
            logo_thumbnail_url=logo.get("thumbnail_url"),
        )
    return rows


def _type_mask(types: tuple[int, ...]) -> int:
    return sum(1 << group_type for group_type in set(types))


def group_newspark_queryset(*, vhost: int, moderation: str, group_types: tuple[int, ...] | None) -> QuerySet[Group]:
    """The existing groups of `vhost` in the moderation statuses `moderation` names, of `group_types`, none of whose
    ancestors is of another type."""
    groups = (
        group_queryset().select_related(None).filter(vhost=vhost, moderation_status__in=MODERATION_FILTERS[moderation])
    )
    if group_types is None:
        return groups
    # The ancestors' types must be among `group_types`: their mask one of the subsets of the allowed bits, listed as
    # values so that the planner estimates the filter from the column's statistics.
    allowed = _type_mask(group_types)
    ancestor_masks = [mask for mask in range(allowed + 1) if mask & ~allowed == 0]
    return groups.filter(group_type__in=group_types, tree_ancestor_types__in=ancestor_masks)


def _filtered(groups: QuerySet[Group], query: GroupPageQuery) -> QuerySet[Group]:
    """Applies every filter of `query` but the parent (which needs a read of its own)."""
    conditions = Q()
    if query.member_id is not None:
        members = Membership.objects.filter(group=OuterRef("pk"), user_id=query.member_id, status=MemberStatus.ACTIVE)
        conditions &= Q(Exists(members))
    if query.creator_id is not None:
        conditions &= Q(created_by_id=query.creator_id)
    if query.custom1 is not None:
        conditions &= Q(custom1=query.custom1)
    for bound, lookup in (
        (query.starts_after, "starts_at__gt"),
        (query.starts_before, "starts_at__lt"),
        (query.ends_after, "ends_at__gt"),
        (query.ends_before, "ends_at__lt"),
    ):
        if bound is not None:
            conditions &= Q(**{lookup: bound})
    if query.geo_not_null:
        conditions &= Q(latitude__isnull=False, longitude__isnull=False)
    if query.geo_boundaries is not None:
        north, west, south, east = query.geo_boundaries
        conditions &= geo.box_filter(north=north, west=west, south=south, east=east)
    if query.media_id is not None:
        conditions &= Q(Exists(Media.objects.filter(pk=query.media_id, group=OuterRef("pk"))))
    if query.search_name:
        conditions &= Q(name__icontains=query.search_name)
    if query.search_description:
        conditions &= Q(description__icontains=query.search_description)
    if query.search_query:
        text = query.search_query
        conditions &= (
            Q(name__icontains=text)
            | Q(description__icontains=text)
            | Q(address__icontains=text)
            | Q(host__icontains=text)
            | Q(city__icontains=text)
        )
    groups = groups.filter(conditions)
    if query.geo_center is not None:
        groups = groups.annotate(distance=geo.distance_expression(query.geo_center))
        if query.geo_distance is not None:
            groups = groups.filter(
                geo.within_box(query.geo_center, query.geo_distance), distance__lte=query.geo_distance
            )
    return groups


def _ordering(query: GroupPageQuery) -> list:
    column = GROUP_SORTS[query.sort]
    nulls_last = {"nulls_last": True} if column in NULLABLE_SORTS else {}
    key = F(column).desc(**nulls_last) if query.descending else F(column).asc(**nulls_last)
    return [key] if column == "id" else [key, F("id").asc()]


def _authorize_page(*, user, query: GroupPageQuery) -> None:
    if query.no_limit and not user.has_perm("groups.getGroupsNoLimit"):
        raise PermissionDeniedError("noLimit needs the groups.getGroupsNoLimit permission.", field="noLimit")
    if query.creator_id is not None and query.creator_id != user.pk and not user.has_perm("groups.getGroups"):
        raise PermissionDeniedError(
            "Filtering on another user's groups needs the groups.getGroups permission.", field="creatorUserID"
        )
    # Which groups someone belongs to is as private as a member list (Group.objects.visible_to).
    if query.member_id is not None and query.member_id != user.pk and not user.has_perm("groups.getGroups"):
        raise PermissionDeniedError("Another user's memberships need the groups.getGroups permission.", field="uid")


# Larger pages (up to 5,000 rows, or every group with noLimit) are read each time rather than kept in the cache.
CACHED_PAGE_ROWS = 1000


def group_page(*, user, query: GroupPageQuery) -> GroupPage:
    """One page of a vhost's groups as getGroups defines it, with the total and the parent's child count when asked.

    Raises PermissionDeniedError for noLimit, or another creator's or member's groups, without the permission. A
    parent that is not an existing group of the vhost matches nothing. With a cache every process shares, a page of
    at most CACHED_PAGE_ROWS is computed once per query until a group write commits (GROUPS_VERSION;
    GROUPS_PAGE_CACHE_SECONDS at most); the permission is checked every time.
    """
    _authorize_page(user=user, query=query)
    if query.no_limit or query.page_size > CACHED_PAGE_ROWS:
        return _group_page(query)
    return shared_cached(
        key=f"groups:page:{digest(repr(query))}",
        versions=[GROUPS_VERSION],
        compute=lambda: _group_page(query),
        timeout=settings.GROUPS_PAGE_CACHE_SECONDS,
    )


def _group_page(query: GroupPageQuery) -> GroupPage:
    """group_page read from the database. Queries: the page, plus one each for the logos shown, the parent, the
    total and the child count when asked."""
    base = group_newspark_queryset(vhost=query.vhost, moderation=query.moderation, group_types=query.group_types)
    groups = _filtered(base, query)
    children = base.exclude(parent__vhost=query.vhost)
    if query.parent_id is not None:
        parent = group_queryset().select_related(None).filter(pk=query.parent_id, vhost=query.vhost)
        numbers = parent.values("tree_left", "tree_right").first()
        if numbers is None:
            groups, children = groups.none(), children.none()
        else:
            children = base.filter(parent_id=query.parent_id)
            if query.include_children:
                groups = groups.filter(tree_left__gt=numbers["tree_left"], tree_right__lt=numbers["tree_right"])
            else:
                groups = groups.filter(parent_id=query.parent_id)
    page = groups.order_by(*_ordering(query))
    if not query.no_limit:
        start = query.start_page * query.page_size
        page = page[start : start + query.page_size]
    extra = ("distance",) if query.geo_center is not None else ()
    return GroupPage(
        groups=_newspark_rows(page, *extra),
        total_count=groups.count() if query.include_total_count else None,
        child_group_count=children.count() if query.child_group_count else None,
    )


def group_get_by_number(*, group_id: int) -> dict:
    """The existing group with this integer id as a Newspark row (NEWSPARK_COLUMNS and its logo); NotFoundError
    otherwise."""
    rows = _newspark_rows(group_queryset().select_related(None).filter(pk=group_id))
    if not rows:
        raise NotFoundError("Group not found.", code="group_not_found", field="groupId")
    return rows[0]


@dataclass
class GroupTreeNode:
    group: dict
    children: list["GroupTreeNode"] = field(default_factory=list)


def group_tree(
    *, vhost: int, moderation: str, group_types: tuple[int, ...] | None, parent_id: int | None = None
) -> list[GroupTreeNode]:
    """The vhost's groups nested in tree order, below `parent_id` when given (an unknown parent has none).

    A group that is gone, or fails the moderation or type filter, is left out together with its whole subtree.
    One query (plus one for the parent, one for the logos shown): the subtree's rows in tree order, each marked
    whether it passes.
    """
    subtree = Group.objects.filter(vhost=vhost)
    if parent_id is not None:
        parent = group_queryset().select_related(None).filter(pk=parent_id, vhost=vhost)
        numbers = parent.values("tree_left", "tree_right").first()
        if numbers is None:
            return []
        subtree = subtree.filter(tree_left__gt=numbers["tree_left"], tree_right__lt=numbers["tree_right"])
    passing = Q(moderation_status__in=MODERATION_FILTERS[moderation]) & EXISTING_GROUP
    if group_types is not None:
        passing &= Q(group_type__in=group_types)
    passes = ExpressionWrapper(passing, output_field=BooleanField())
    rows = _newspark_rows(subtree.annotate(passes=passes).order_by("tree_left"), "passes")
    roots: list[GroupTreeNode] = []
    open_nodes: list[GroupTreeNode] = []
    dropped_until = 0  # right number of the last dropped subtree: rows inside it are dropped with it
    for group in rows:
        if group["tree_left"] < dropped_until:
            continue
        if not group["passes"]:
            dropped_until = group["tree_right"]
            continue
        while open_nodes and open_nodes[-1].group["tree_right"] < group["tree_left"]:
            open_nodes.pop()
        node = GroupTreeNode(group)
        (open_nodes[-1].children if open_nodes else roots).append(node)
        open_nodes.append(node)
    return roots
