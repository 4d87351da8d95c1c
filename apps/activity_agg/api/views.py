"""The activity aggregator's endpoints: the Sunbird aggregator's (`/api/data/v1/group/...`) and the native one."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from apps.activity_agg import selectors
from apps.activity_agg.api import serializers as s
from apps.common.api.dialects import DialectAPIView
from apps.common.api.native import Native
from apps.common.api.sunbird_agg import SunbirdAggregator, aggregator_request
from apps.common.api.sunbird_platform import PlatformCode, SunbirdPlatformEnvelopeSerializer

GROUP_ID_MISSING = PlatformCode("GROUP_ID_MISSING", 400, "GroupId is mandatory.")
ACTIVITY_ID_MISSING = PlatformCode("ACTIVITY_ID_MISSING", 400, "ActivityId is mandatory.")
ACTIVITY_TYPE_MISSING = PlatformCode("ACTIVITY_TYPE_MISSING", 400, "ActivityType is mandatory.")


@extend_schema(tags=["sunbird"], request=s.ActivityAggRequestSerializer, responses=SunbirdPlatformEnvelopeSerializer)
class GroupActivityAggView(DialectAPIView):
    """Progress of the group's enrolled members in one activity: `{"request": {"groupId", "activityId",
    "activityType"}}`. Members of the group (and staff) only; `Accept: text/csv` gives the member table."""

    dialect = SunbirdAggregator
    sunbird_api_id = "api.group.activity.agg"
    extra_error_codes = ["404"]

    def post(self, request):
        data = aggregator_request(
            request.data,
            required=(
                ("groupId", GROUP_ID_MISSING),
                ("activityId", ACTIVITY_ID_MISSING),
                ("activityType", ACTIVITY_TYPE_MISSING),
            ),
        )
        agg = selectors.group_activity_agg(
            actor=request.user,
            group_id=data["groupId"],
            activity_id=data["activityId"],
            activity_type=data["activityType"],
        )
        return Response(s.sunbird_activity_agg(agg))


@extend_schema(tags=["sunbird"], request=s.GroupAggRequestSerializer, responses=SunbirdPlatformEnvelopeSerializer)
class GroupAggView(DialectAPIView):
    """Every activity of a group in one call (Tally's; the reference only sketches it): `{"request": {"groupId"}}`
    answers `{"groupId", "activities": [<the result of api.group.activity.agg>, ...]}`."""

    dialect = SunbirdAggregator
    sunbird_api_id = "api.group.agg"
    extra_error_codes = ["404"]

    def post(self, request):
        data = aggregator_request(request.data, required=(("groupId", GROUP_ID_MISSING),))
        group_aggs = selectors.group_aggs(actor=request.user, group_id=data["groupId"])
        return Response(s.sunbird_group_agg(group_aggs))


@extend_schema(
    tags=["activity aggregates"],
    responses=s.ActivityAggSerializer(many=True),
    parameters=[OpenApiParameter("activity_id", str, description="Only this activity of the group.")],
)
class GroupActivityAggListView(DialectAPIView):
    """The aggregate of every activity of a group (or of `activity_id` only): members of the group and staff."""

    dialect = Native
    pagination_class = None  # a group holds at most GROUPS_MAX_ACTIVITIES activities: one plain list

    def get(self, request, group_id):
        aggs = selectors.group_aggs(
            actor=request.user, group_id=group_id, activity_id=request.query_params.get("activity_id")
        ).activities
        return Response(s.ActivityAggSerializer(aggs, many=True).data)
