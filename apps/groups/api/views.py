"""Native REST API (`/api/v1/`): groups, memberships and activities. Writes go through apps.groups.services."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from apps.common.api.dialects import DialectModelViewSet, DialectViewSet
from apps.common.api.native import Native
from apps.common.exceptions import ConflictError, NotFoundError, ServiceError
from apps.common.models import User
from apps.groups import selectors, services
from apps.groups.api import native_serializers as ns
from apps.groups.filters import ActivityFilterSet, GroupFilterSet, MembershipFilterSet
from apps.groups.services import MEMBER_EXISTS, MEMBER_NOT_FOUND, ActivitySpec, GroupWriteResult, MemberSpec

ITEM_ERRORS = {
    MEMBER_EXISTS: (ConflictError, "The user is already an active member of this group."),
    MEMBER_NOT_FOUND: (NotFoundError, "No such active user, or not an active member of this group."),
    services.MEMBER_LIMIT: (ServiceError, "The group would exceed its member limit."),
    services.ACTIVITY_LIMIT: (ServiceError, "The group would exceed its activity limit."),
    services.ACTIVITY_EXISTS: (ConflictError, "The group has this activity already."),
}


def reader_of(view) -> User | None:
    """Whose sight limits the rows: the caller's for a read (list, retrieve); none for a write, which reaches every
    existing group and is judged by the services (a stranger's change is refused 403, not hidden)."""
    return view.request.user if view.action in ("list", "retrieve") else None


def raise_item_errors(result: GroupWriteResult) -> None:
    """The native API acts on one item per request, so a per-item problem fails the request."""
    for error in [*result.member_errors, *result.activity_errors]:
        error_class, message = ITEM_ERRORS[error.code]
        raise error_class(message, code=error.code.lower())


@extend_schema_view(
    list=extend_schema(summary="List groups", description="Existing groups; filter on any column."),
    destroy=extend_schema(summary="Delete a group", description="Creator only; the group becomes inactive."),
)
class GroupViewSet(DialectModelViewSet):
    """Groups. `id` is the public UUID (Sunbird groupId, CKAN id), `number` the integer id (Newspark)."""

    dialect = Native
    serializer_class = ns.GroupSerializer
    filterset_class = GroupFilterSet
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"
    search_fields = ("name", "slug", "description", "custom1", "city", "host", "address")
    ordering_fields = ("id", "name", "slug", "created_at", "updated_at", "status", "type", "vhost", "group_type",
                       "moderation_status", "starts_at", "ends_at", "member_count", "activity_count")  # fmt: skip
    ordering = ("id",)
    http_method_names = ("get", "post", "patch", "delete", "head", "options")

    def get_queryset(self):
        return selectors.group_with_counts_queryset(reader=reader_of(self))

    def perform_create(self, serializer):
        result = services.group_create(actor=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=result.group.pk)

    def perform_update(self, serializer):
        group = serializer.instance
        services.group_update(actor=self.request.user, group_id=group.public_id, changes=serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=group.pk)

    def perform_destroy(self, instance):
        services.group_delete(actor=self.request.user, group_id=instance.public_id)


class MembershipViewSet(DialectModelViewSet):
    """Memberships of existing groups. Removal is soft: the membership becomes inactive."""

    dialect = Native
    serializer_class = ns.MembershipSerializer
    lookup_value_regex = "[0-9]+"
    filterset_class = MembershipFilterSet
    ordering_fields = ("id", "created_at", "updated_at", "role", "status")
    ordering = ("id",)
    http_method_names = ("get", "post", "patch", "delete", "head", "options")

    def get_queryset(self):
        return selectors.membership_queryset(reader=reader_of(self))

    def get_serializer_class(self):
        if self.action in ("partial_update", "update"):
            return ns.MembershipUpdateSerializer
        return ns.MembershipSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        spec = MemberSpec(user_id=str(data["user"].public_id), role=data.get("role"))
        result = services.group_update(actor=self.request.user, group_id=data["group"].public_id, members_add=[spec])
        raise_item_errors(result)
        serializer.instance = self.get_queryset().get(group=data["group"], user=data["user"])

    def perform_update(self, serializer):
        membership, data = serializer.instance, serializer.validated_data
        spec = MemberSpec(user_id=str(membership.user.public_id), role=data.get("role"), visited=data.get("visited"))
        result = services.group_update(
            actor=self.request.user, group_id=membership.group.public_id, members_edit=[spec]
        )
        raise_item_errors(result)
        serializer.instance = self.get_queryset().get(pk=membership.pk)

    def perform_destroy(self, instance):
        result = services.group_update(
            actor=self.request.user, group_id=instance.group.public_id, members_remove=[str(instance.user.public_id)]
        )
        raise_item_errors(result)


class ActivityViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    DialectViewSet,
):
    """Activities of existing groups, such as courses; unique by activity_id within a group."""

    dialect = Native
    serializer_class = ns.ActivitySerializer
    lookup_value_regex = "[0-9]+"
    filterset_class = ActivityFilterSet
    search_fields = ("activity_id", "activity_type")
    ordering_fields = ("id", "created_at", "activity_id", "activity_type")
    ordering = ("id",)

    def get_queryset(self):
        return selectors.activity_queryset(reader=reader_of(self))

    def perform_create(self, serializer):
        data = serializer.validated_data
        group = data["group"]
        spec = ActivitySpec(data["activity_id"], data["activity_type"])
        result = services.group_update(actor=self.request.user, group_id=group.public_id, activities_add=[spec])
        raise_item_errors(result)
        serializer.instance = self.get_queryset().get(group=group, activity_id=data["activity_id"])

    def perform_destroy(self, instance):
        services.group_update(
            actor=self.request.user, group_id=instance.group.public_id, activities_remove=[instance.activity_id]
        )


class GroupItemViewSet(DialectModelViewSet):
    """Media items or comments of existing groups (Newspark counts them). Writes go through the group_item services;
    the group of an item does not change."""

    dialect = Native
    lookup_value_regex = "[0-9]+"
    ordering_fields = ("id", "created_at", "moderation_status")
    ordering = ("id",)
    filterset_fields = ("moderation_status",)
    http_method_names = ("get", "post", "patch", "delete", "head", "options")

    def get_queryset(self):
        model = self.get_serializer_class().Meta.model
        return selectors.group_item_queryset(model=model, reader=reader_of(self))

    def perform_create(self, serializer):
        serializer.instance = services.group_item_create(
            actor=self.request.user, model=serializer.Meta.model, **serializer.validated_data
        )

    def perform_update(self, serializer):
        changes = {name: value for name, value in serializer.validated_data.items() if name != "group"}
        services.group_item_update(actor=self.request.user, item=serializer.instance, changes=changes)

    def perform_destroy(self, instance):
        services.group_item_delete(actor=self.request.user, item=instance)


class MediaViewSet(GroupItemViewSet):
    serializer_class = ns.MediaSerializer
    search_fields = ("title",)


class CommentViewSet(GroupItemViewSet):
    serializer_class = ns.CommentSerializer
    search_fields = ("body",)
