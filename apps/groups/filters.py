import django_filters

from apps.common.filters import BaseFilterSet, IntegerFilter, scalar_filter_fields
from apps.groups.models import Activity, Group, Membership, MemberStatus


class GroupFilterSet(BaseFilterSet):
    """Every column of the group table; users and the parent by their public UUIDs."""

    id = django_filters.UUIDFilter(field_name="public_id")
    number = IntegerFilter(field_name="id")
    parent = django_filters.UUIDFilter(field_name="parent__public_id")
    parent__isnull = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull")
    created_by = django_filters.UUIDFilter(field_name="created_by__public_id")
    updated_by = django_filters.UUIDFilter(field_name="updated_by__public_id")
    owner = django_filters.UUIDFilter(field_name="owner__public_id")
    member = django_filters.UUIDFilter(method="filter_member", label="Has this user (public UUID) as an active member")

    class Meta:
        model = Group
        fields = scalar_filter_fields(Group, exclude={"id", "public_id", "position"})

    def filter_member(self, queryset, name, value):
        # One filter() call, so that user and status constrain the same membership row.
        return queryset.filter(memberships__user__public_id=value, memberships__status=MemberStatus.ACTIVE)


class MembershipFilterSet(BaseFilterSet):
    group = django_filters.UUIDFilter(field_name="group__public_id")
    user = django_filters.UUIDFilter(field_name="user__public_id")

    class Meta:
        model = Membership
        fields = scalar_filter_fields(Membership, exclude=set())


class ActivityFilterSet(BaseFilterSet):
    group = django_filters.UUIDFilter(field_name="group__public_id")

    class Meta:
        model = Activity
        fields = scalar_filter_fields(Activity, exclude=set())
