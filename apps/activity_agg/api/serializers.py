"""Wire formats of the aggregates: the Sunbird aggregator's (camelCase, epoch milliseconds) and the native API's."""

from datetime import datetime

from django.utils import timezone
from rest_framework import serializers

from apps.activity_agg.selectors import ActivityAgg, GroupAggs, MemberAgg


# Sunbird requests: field names are the reference's own.
class ActivityAggFieldsSerializer(serializers.Serializer):
    groupId = serializers.CharField()
    activityId = serializers.CharField()
    activityType = serializers.CharField(help_text="`Course` for a course's progress.")


class ActivityAggRequestSerializer(serializers.Serializer):
    request = ActivityAggFieldsSerializer()


class GroupAggFieldsSerializer(serializers.Serializer):
    groupId = serializers.CharField()


class GroupAggRequestSerializer(serializers.Serializer):
    request = GroupAggFieldsSerializer()


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _sunbird_member(member: MemberAgg) -> dict:
    return {
        "userId": str(member.user_id),
        "name": member.name,
        "role": member.role,
        "status": member.status,
        "createdBy": str(member.created_by) if member.created_by else None,
        "agg": [
            {
                "metric": metric.metric,
                "value": metric.value,
                "lastUpdatedOn": epoch_ms(metric.last_updated) if metric.last_updated else None,
            }
            for metric in member.metrics
        ],
    }


def sunbird_activity_agg(agg: ActivityAgg) -> dict:
    """`result` of api.group.activity.agg: the activity's enrolmentCount (its lastUpdatedOn the latest of the
    members' metrics, or now when there is none, as the reference does) and the enrolled members."""
    updated = agg.last_updated or timezone.now()
    return {
        "groupId": str(agg.group_id),
        "activity": {
            "id": agg.activity_id,
            "type": agg.activity_type,
            "agg": [{"metric": "enrolmentCount", "lastUpdatedOn": epoch_ms(updated), "value": agg.enrolment_count}],
        },
        "members": [_sunbird_member(member) for member in agg.members],
    }


def sunbird_group_agg(group_aggs: GroupAggs) -> dict:
    """`result` of api.group.agg: each activity's result of api.group.activity.agg, without the group id."""
    activities = []
    for agg in group_aggs.activities:
        result = sunbird_activity_agg(agg)
        activities.append({"activity": result["activity"], "members": result["members"]})
    return {"groupId": str(group_aggs.group_id), "activities": activities}


class MetricSerializer(serializers.Serializer):
    metric = serializers.CharField()
    value = serializers.FloatField()
    last_updated = serializers.DateTimeField(allow_null=True)


class MemberAggSerializer(serializers.Serializer):
    user = serializers.UUIDField(source="user_id")
    name = serializers.CharField()
    role = serializers.CharField()
    status = serializers.CharField()
    metrics = MetricSerializer(many=True)


class ActivityAggSerializer(serializers.Serializer):
    """One activity's aggregate in the native API: enrolled active members and their metrics."""

    group = serializers.UUIDField(source="group_id")
    activity_id = serializers.CharField()
    activity_type = serializers.CharField()
    enrolment_count = serializers.IntegerField()
    last_updated = serializers.DateTimeField(allow_null=True)
    members = MemberAggSerializer(many=True)
