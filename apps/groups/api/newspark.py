"""The Newspark groups service: groups.getGroups, groups.getGroup and groups.getGroupTree, each at
`services/rest/groups/<method>` (XML) and `services/json/groups/<method>` (JSON)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from apps.common.api.dialects import DialectAPIView
from apps.common.api.newspark import Newspark, NewsparkList
from apps.groups import selectors
from apps.groups.api import newspark_serializers as ns
from apps.groups.selectors import GROUP_SORTS, MODERATION_FILTERS, GroupPageQuery

ENVELOPE = inline_serializer(
    "NewsparkEnvelope",
    {
        "status": serializers.BooleanField(),
        "result": serializers.JSONField(help_text='Items keyed "0", "1", ..., then childGroupCount and totalCount.'),
    },
)


def _parameter(name: str, kind=str, **kwargs) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, **kwargs)


MODERATION = _parameter("moderationStatus", enum=list(MODERATION_FILTERS), description="accepted by default")
GROUP_TYPE = _parameter("groupType", description="1 groups, 2 events, 3 assignments, a comma list, or null")
FILTERS = [
    _parameter(f"filters[{name}]", kind)
    for name, kind in [
        ("creatorUserID", int), ("custom1", str), ("endAfter", str), ("endBefore", str), ("startAfter", str),
        ("startBefore", str), ("geoCenter", str), ("geoDistance", float), ("geoBoundaries", str), ("geo", str),
        ("includeChildren", bool), ("mediaID", int), ("parentGroupID", int), ("searchDescription", str),
        ("searchName", str), ("searchQuery", str),
    ]
]  # fmt: skip


class NewsparkView(DialectAPIView):
    dialect = Newspark

    def arguments(self, serializer_class: type[serializers.Serializer]) -> dict:
        serializer = serializer_class(data=self.dialect.arguments(self.request.query_params))
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class GetGroupsView(NewsparkView):
    extra_error_codes = ["403"]  # noLimit or another user's groups without the permission

    @extend_schema(
        summary="groups.getGroups",
        description="A page of a vhost's groups, filtered and sorted; XML at services/rest, JSON at services/json.",
        parameters=[
            _parameter("vhost", int, required=True),
            _parameter("uid", int),
            MODERATION,
            _parameter("sort", description=f"one of {', '.join(GROUP_SORTS)}, then ASC or DESC"),
            _parameter("startPage", int),
            _parameter("pageSize", int, description="100 by default, at most 5000"),
            _parameter("includeTotalCount", bool),
            _parameter("noLimit", bool),
            _parameter("childGroupCount", bool),
            GROUP_TYPE,
            *FILTERS,
        ],
        responses={200: ENVELOPE},
        tags=["newspark"],
    )
    def get(self, request, **kwargs):
        page = selectors.group_page(
            user=request.user, query=GroupPageQuery(**self.arguments(ns.GetGroupsArgumentsSerializer))
        )
        items = ns.NewsparkGroupSerializer(page.groups, many=True).data
        return Response(NewsparkList(items, page.total_count, page.child_group_count))


class GetGroupView(NewsparkView):
    extra_error_codes = ["404"]

    @extend_schema(
        summary="groups.getGroup",
        parameters=[_parameter("groupId", int, required=True)],
        responses={200: ENVELOPE},
        tags=["newspark"],
    )
    def get(self, request, **kwargs):
        group = selectors.group_get_by_number(**self.arguments(ns.GetGroupArgumentsSerializer))
        return Response(ns.NewsparkGroupSerializer(group).data)


class GetGroupTreeView(NewsparkView):
    @extend_schema(
        summary="groups.getGroupTree",
        description="A vhost's groups nested under `children`; a group left out takes its subtree with it.",
        parameters=[_parameter("vhost", int, required=True), MODERATION, _parameter("parentGroup", int), GROUP_TYPE],
        responses={200: ENVELOPE},
        tags=["newspark"],
    )
    def get(self, request, **kwargs):
        nodes = selectors.group_tree(**self.arguments(ns.GetGroupTreeArgumentsSerializer))
        return Response(NewsparkList(ns.NewsparkGroupTreeSerializer(nodes, many=True).data))
