from rest_framework import serializers

from apps.common.api.fields import StrictBooleanField, StrictCharField
from apps.common.api.sunbird import sunbird_timestamp
from apps.groups.models import Activity, Group, GroupStatus, MemberRole, Membership, MemberStatus

# Sunbird requests: field names are Sunbird's own.


class SunbirdMemberSerializer(serializers.Serializer):
    userId = StrictCharField(max_length=100)
    role = serializers.ChoiceField(choices=MemberRole.choices, required=False)
    status = serializers.ChoiceField(choices=MemberStatus.choices, required=False)


class SunbirdActivitySerializer(serializers.Serializer):
    id = StrictCharField(max_length=255)
    type = StrictCharField(max_length=100)


class SunbirdCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=255)
    description = StrictCharField(max_length=10000, required=False, allow_blank=True)
    membershipType = StrictCharField(max_length=32, required=False)
    members = SunbirdMemberSerializer(many=True, required=False)
    activities = SunbirdActivitySerializer(many=True, required=False)


class SunbirdMemberEditSerializer(serializers.Serializer):
    userId = StrictCharField(max_length=100)
    role = serializers.ChoiceField(choices=MemberRole.choices, required=False)
    visited = StrictBooleanField(required=False)


class SunbirdMembersChangeSerializer(serializers.Serializer):
    add = SunbirdMemberSerializer(many=True, required=False)
    edit = SunbirdMemberEditSerializer(many=True, required=False)
    remove = serializers.ListField(child=StrictCharField(max_length=100), required=False)


class SunbirdActivitiesChangeSerializer(serializers.Serializer):
    add = SunbirdActivitySerializer(many=True, required=False)
    remove = serializers.ListField(child=StrictCharField(max_length=255), required=False)


class SunbirdUpdateSerializer(serializers.Serializer):
    groupId = StrictCharField(max_length=100)
    name = StrictCharField(max_length=255, required=False)
    description = StrictCharField(max_length=10000, required=False, allow_blank=True)
    membershipType = StrictCharField(max_length=32, required=False)
    status = serializers.CharField(required=False)
    members = SunbirdMembersChangeSerializer(required=False)
    activities = SunbirdActivitiesChangeSerializer(required=False)

    def validate_status(self, value):
        # The reference ignores a status it does not know rather than refusing the request.
        return value if value in GroupStatus.values else None


class SunbirdGroupIdSerializer(serializers.Serializer):
    groupId = StrictCharField(max_length=100)


class SunbirdListFiltersSerializer(serializers.Serializer):
    userId = StrictCharField(max_length=100)


class SunbirdListSerializer(serializers.Serializer):
    filters = SunbirdListFiltersSerializer()


class SunbirdVisitSerializer(serializers.Serializer):
    groupId = StrictCharField(max_length=100)
    visited = StrictBooleanField(required=False)
    role = serializers.JSONField(required=False)
    status = serializers.JSONField(required=False)


class SunbirdMembershipUpdateSerializer(serializers.Serializer):
    userId = StrictCharField(max_length=100)
    groups = SunbirdVisitSerializer(many=True, allow_empty=False)


# Sunbird responses.


def _public_id(user) -> str | None:
    return str(user.public_id) if user is not None else None


def sunbird_group(group: Group) -> dict:
    """The group object as Sunbird reads and lists it: null (and blank description) fields are left out."""
    payload = {
        "id": str(group.public_id),
        "name": group.name,
        "description": group.description or None,
        "status": group.status,
        "membershipType": group.membership_type,
        "createdOn": sunbird_timestamp(group.created_at),
        "createdBy": _public_id(group.created_by),
        "updatedOn": sunbird_timestamp(group.updated_at),
        "updatedBy": _public_id(group.updated_by),
    }
    return {key: value for key, value in payload.items() if value is not None}


def sunbird_member(membership: Membership, group: Group) -> dict:
    user = membership.user
    return {
        "userId": str(user.public_id),
        "groupId": str(group.public_id),
        "role": membership.role,
        "status": membership.status,
        "createdOn": sunbird_timestamp(membership.created_at),
        "createdBy": _public_id(membership.created_by),
        "updatedOn": sunbird_timestamp(membership.updated_at),
        "updatedBy": _public_id(membership.updated_by),
        "removedOn": sunbird_timestamp(membership.removed_at),
        "removedBy": _public_id(membership.removed_by),
        "visited": membership.visited,
        "name": f"{user.first_name} {user.last_name}".strip(),
    }


def sunbird_activity(activity: Activity) -> dict:
    return {"id": activity.activity_id, "type": activity.activity_type}
