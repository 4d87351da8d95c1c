"""Newspark groups service: its arguments (validated into apps.groups.selectors queries) and its group item."""

import math
from datetime import UTC

from rest_framework import serializers

from apps.common.api.newspark import NewsparkList
from apps.groups.geo import Point
from apps.groups.models import GroupType
from apps.groups.selectors import GROUP_SORTS, MODERATION_FILTERS, GroupTreeNode

INT_MAX = 2**31 - 1
ID_MAX = 2**63 - 1
DATETIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "iso-8601"]


class Coordinates(serializers.Field):
    """Floats as a list (`a[]=1&a[]=2`), a keyed array (`a[0]=1`) or a comma list (`a=1,2`), `count` of them;
    every odd one a latitude, every even one a longitude."""

    def __init__(self, *, count: int, **kwargs):
        self.count = count
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = data.split(",")
        elif isinstance(data, dict):
            data = list(data.values())
        if not isinstance(data, list) or len(data) != self.count:
            raise serializers.ValidationError(f"Expected {self.count} numbers.")
        try:
            numbers = [float(value) for value in data]
        except (TypeError, ValueError) as exc:
            raise serializers.ValidationError("Expected numbers.") from exc
        for n, number in enumerate(numbers):
            limit = 90 if n % 2 == 0 else 180
            if not math.isfinite(number) or abs(number) > limit:
                raise serializers.ValidationError(f"Latitudes lie within ±90 and longitudes within ±180: {number}.")
        return tuple(numbers)

    def to_representation(self, value):
        return list(value)


class GroupTypes(serializers.CharField):
    """`1`, a comma list such as `1,3`, or `null` for every type."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data).strip()
        if text.lower() in ("null", ""):
            return None
        try:
            types = tuple(sorted({int(part) for part in text.split(",")}))
        except ValueError as exc:
            raise serializers.ValidationError("Expected 1, 2, 3, a comma list of them, or null.") from exc
        if not set(types) <= set(GroupType.values):
            raise serializers.ValidationError("Expected 1, 2, 3, a comma list of them, or null.")
        return types


class GetGroupsFiltersSerializer(serializers.Serializer):
    creatorUserID = serializers.IntegerField(source="creator_id", required=False, min_value=0, max_value=ID_MAX)
    custom1 = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    endAfter = serializers.DateTimeField(source="ends_after", required=False, input_formats=DATETIME_FORMATS)
    endBefore = serializers.DateTimeField(source="ends_before", required=False, input_formats=DATETIME_FORMATS)
    startAfter = serializers.DateTimeField(source="starts_after", required=False, input_formats=DATETIME_FORMATS)
    startBefore = serializers.DateTimeField(source="starts_before", required=False, input_formats=DATETIME_FORMATS)
    geoCenter = Coordinates(source="geo_center", count=2, required=False)
    geoDistance = serializers.FloatField(source="geo_distance", required=False, min_value=0, max_value=1e9)
    geoBoundaries = Coordinates(source="geo_boundaries", count=4, required=False)
    geo = serializers.ChoiceField(choices=["notnull"], required=False)
    includeChildren = serializers.BooleanField(source="include_children", required=False)
    mediaID = serializers.IntegerField(source="media_id", required=False, min_value=0, max_value=ID_MAX)
    parentGroupID = serializers.IntegerField(source="parent_id", required=False, min_value=0, max_value=ID_MAX)
    searchDescription = serializers.CharField(source="search_description", required=False, allow_blank=True)
    searchName = serializers.CharField(source="search_name", required=False, allow_blank=True)
    searchQuery = serializers.CharField(source="search_query", required=False, allow_blank=True)

    def validate(self, attrs):
        if "geo_distance" in attrs and "geo_center" not in attrs:
            raise serializers.ValidationError({"geoDistance": "Needs geoCenter."})
        if "include_children" in attrs and "parent_id" not in attrs:
            raise serializers.ValidationError({"includeChildren": "Only with parentGroupID."})
        if "geo_center" in attrs:
            attrs["geo_center"] = Point(*attrs["geo_center"])
        attrs["geo_not_null"] = attrs.pop("geo", None) == "notnull"
        return attrs


class VhostArgumentsSerializer(serializers.Serializer):
    """The vhost and the moderation filter, which getGroups and getGroupTree share."""

    vhost = serializers.IntegerField(min_value=0, max_value=INT_MAX)
    moderationStatus = serializers.ChoiceField(
        source="moderation", choices=list(MODERATION_FILTERS), default="accepted"
    )


class GetGroupsArgumentsSerializer(VhostArgumentsSerializer):
    """groups.getGroups arguments, validated into the keyword arguments of selectors.GroupPageQuery."""

    uid = serializers.IntegerField(source="member_id", required=False, min_value=0, max_value=ID_MAX)
    filters = GetGroupsFiltersSerializer(required=False)
    sort = serializers.CharField(default="created DESC")
    startPage = serializers.IntegerField(source="start_page", default=0, min_value=0, max_value=10**9)
    pageSize = serializers.IntegerField(source="page_size", default=100, min_value=1, max_value=5000)
    includeTotalCount = serializers.BooleanField(source="include_total_count", default=False)
    noLimit = serializers.BooleanField(source="no_limit", default=False)
    childGroupCount = serializers.BooleanField(source="child_group_count", default=False)
    groupType = GroupTypes(source="group_types", default=(GroupType.GROUP,))

    def validate_sort(self, value: str) -> tuple[str, bool]:
        parts = value.split()
        field = parts[0].lower() if parts else ""
        direction = parts[1].upper() if len(parts) == 2 else "ASC"
        if field not in GROUP_SORTS or len(parts) > 2 or direction not in ("ASC", "DESC"):
            raise serializers.ValidationError(f"Expected one of {', '.join(GROUP_SORTS)}, then ASC or DESC.")
        return field, direction == "DESC"

    def validate(self, attrs):
        attrs.update(attrs.pop("filters", {}))
        attrs["sort"], attrs["descending"] = attrs["sort"]
        if attrs["sort"] == "distance" and "geo_center" not in attrs:
            raise serializers.ValidationError({"sort": "distance needs filters[geoCenter]."})
        return attrs


class GetGroupTreeArgumentsSerializer(VhostArgumentsSerializer):
    parentGroup = serializers.IntegerField(source="parent_id", default=0, min_value=0, max_value=ID_MAX)
    groupType = GroupTypes(source="group_types", default=None)

    def validate(self, attrs):
        attrs["parent_id"] = attrs["parent_id"] or None  # 0 is the reference's "the whole tree"
        return attrs


class GetGroupArgumentsSerializer(serializers.Serializer):
    groupId = serializers.IntegerField(source="group_id", min_value=0, max_value=ID_MAX)


class NewsparkGroupSerializer(serializers.BaseSerializer):
    """A group (a selectors.NEWSPARK_COLUMNS row) as a getGroups item, fields in the reference's order. Scalars
    stay Python values: the dialect's renderers write them as Newspark text."""

    def to_representation(self, group: dict) -> dict:
        return {
            "id": group["id"],
            "name": group["name"],
            "description": group["description"],
            "note": group["note"],
            "logo": group["logo"] or 0,
            "logo_height": group["logo_height"] or 0,
            "logo_width": group["logo_width"] or 0,
            "publicUrl": group["logo_url"] or "",
            "thumbUrl": group["logo_thumbnail_url"] or "",
            "url": group["url"],
            "created": group["created_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "createdBy": group["created_by_id"] or 0,
            "memberCount": group["counted_members"],
            "mediaCount": group["counted_media"],
            "approvedMediaCount": group["counted_media_accepted"],
            "notDeniedMediaCount": group["counted_media_not_denied"],
            "commentCount": group["counted_comments"],
            "approvedCommentCount": group["counted_comments_accepted"],
            "notDeniedCommentCount": group["counted_comments_not_denied"],
            "geo_longitude": group["longitude"] or 0,
            "geo_latitude": group["latitude"] or 0,
            "moderationStatus": group["moderation_status"],
            "parentGroup": group["parent_id"] or 0,
            "address": group["address"],
            "city": group["city"],
            "country": group["country"],
            "state": group["province"],
            "postalcode": group["postal_code"],
            "newMediaEmailTemplateID": 0,
            "host": group["host"],
            "groupType": group["group_type"],
            "vhost": group["vhost"],
            "other": group["other"] if isinstance(group["other"], dict) else {},
            "custom1": group["custom1"],
            "treeleft": group["tree_left"],
            "treeright": group["tree_right"],
            "email": group["email"],
            "distancefromcenter": group.get("distance"),
        }


class NewsparkGroupTreeSerializer(NewsparkGroupSerializer):
    """A getGroupTree node: the group's item and its children, nested."""

    def to_representation(self, node: GroupTreeNode) -> dict:
        children = [self.to_representation(child) for child in node.children]
        return {**super().to_representation(node.group), "children": NewsparkList(children)}
