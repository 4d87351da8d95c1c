"""The Sunbird group API (`/api/group/...`): one view per operation, rules in apps.groups.services."""

from dataclasses import dataclass

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from apps.common.api.dialects import DialectAPIView
from apps.common.api.sunbird import Sunbird, SunbirdCode, SunbirdEnvelopeSerializer, SunbirdError, sunbird_request
from apps.groups import selectors, services
from apps.groups.api import serializers as s
from apps.groups.services import (
    ACTIVITY_EXISTS,
    ACTIVITY_LIMIT,
    MEMBER_LIMIT,
    ActivitySpec,
    GroupWriteResult,
    ItemError,
    MemberSpec,
)

CONTACT = "Contact your system administrator."


def _item_errors(result: GroupWriteResult, *, member_limit: str, activity_limit: str) -> dict:
    """`result.error` as Sunbird reports per-item problems: only present when there are some."""

    def render(error: ItemError) -> dict:
        if error.code == MEMBER_LIMIT:
            limit = settings.GROUPS_MAX_MEMBERS
            message = f"Failed to add member, group, exceeded number of permissible members of {limit}."
            return {"errorCode": member_limit, "errorMessage": message}
        if error.code == ACTIVITY_LIMIT:
            limit = settings.GROUPS_MAX_ACTIVITIES
            message = f"Failed to add activity, group, exceeded number of permissible activities of {limit}."
            return {"errorCode": activity_limit, "errorMessage": message}
        return {"userId": error.item, "errorCode": error.code}

    # Sunbird adds an activity that exists already as a silent no-op.
    activity_errors = [error for error in result.activity_errors if error.code != ACTIVITY_EXISTS]
    errors = {}
    if result.member_errors:
        errors["members"] = [render(error) for error in result.member_errors]
    if activity_errors:
        errors["activities"] = [render(error) for error in activity_errors]
    return {"error": errors} if errors else {}


@extend_schema(tags=["sunbird"], request=s.SunbirdCreateSerializer, responses=SunbirdEnvelopeSerializer)
class GroupCreateView(DialectAPIView):
    """Create a group; the caller becomes its admin. Body `{"request": {"name", "description", "membershipType",
    "members": [{"userId", "role"}], "activities": [{"id", "type"}]}}`."""

    dialect = Sunbird

    sunbird_api_id = "api.group.create"
    sunbird_invalid = SunbirdCode(
        "GS_CRT02", 400, f"Failed to create group, fields are missing or invalid in the request. {CONTACT}"
    )
    sunbird_server_error = SunbirdCode("GS_CRT03", 500, f"Failed to create group, database error. {CONTACT}")
    sunbird_error_codes = {"group_limit": SunbirdCode("GS_CRT04", 400, "{error}")}

    def post(self, request):
        data = sunbird_request(request.data, serializer_class=s.SunbirdCreateSerializer)
        optional = {"description": data.get("description"), "membership_type": data.get("membershipType")}
        result = services.group_create(
            actor=request.user,
            name=data["name"],
            members=[MemberSpec(user_id=m["userId"], role=m.get("role")) for m in data.get("members", [])],
            activities=[ActivitySpec(a["id"], a["type"]) for a in data.get("activities", [])],
            **{key: value for key, value in optional.items() if value is not None},
        )
        body = {"groupId": str(result.group.public_id)}
        body |= _item_errors(result, member_limit="GS_CRT05", activity_limit="GS_CRT06")
        return Response(body)


@extend_schema(
    tags=["sunbird"],
    responses=SunbirdEnvelopeSerializer,
    parameters=[OpenApiParameter("fields", str, description="Comma-separated: members, activities.")],
)
class GroupReadView(DialectAPIView):
    """Read a group. `fields=members,activities` chooses the parts; without `fields`, activities are included."""

    dialect = Sunbird

    sunbird_api_id = "api.group.read"
    sunbird_invalid = SunbirdCode(
        "GS_RED02", 400, f"Failed to read group details, fields are missing or invalid. {CONTACT}"
    )
    sunbird_server_error = SunbirdCode("GS_RED03", 500, f"Failed to read group details, database error. {CONTACT}")
    sunbird_error_codes = {
        "group_not_found": SunbirdCode("GS_RED07", 400, f"Failed to read details, group not found. {CONTACT}"),
        # Tally's: members are for the group's members and staff (the reference shows them to anyone).
        "not_group_member": SunbirdCode("GS_RED01", 401, f"Failed to read group members, unauthorised user. {CONTACT}"),
    }

    def get(self, request, group_id: str):
        fields_param = request.query_params.get("fields")
        fields = {part.strip() for part in fields_param.split(",")} if fields_param is not None else None
        read = selectors.group_read_cached(group_id=group_id, name="sunbird", derive=_sunbird_read)
        body = dict(read.group)
        if fields is None or "activities" in fields:
            body["activities"] = read.activities
        if fields is not None and "members" in fields:
            selectors.group_members_require_visible(reader=request.user, active_member_ids=read.member_ids)
            body["members"] = read.members
        return Response(body)


@dataclass(frozen=True)
class SunbirdRead:
    """A group as Sunbird reads it, whoever reads it (the members are shown only to who may see them)."""

    group: dict
    activities: list[dict]
    members: list[dict]
    member_ids: frozenset[int]


def _sunbird_read(group) -> SunbirdRead:
    memberships = list(selectors.group_members(group=group, reader=None))
    return SunbirdRead(
        group=s.sunbird_group(group),
        activities=[s.sunbird_activity(activity) for activity in selectors.group_activities(group=group)],
        members=[s.sunbird_member(membership, group) for membership in memberships],
        member_ids=frozenset(membership.user_id for membership in memberships),
    )


@extend_schema(tags=["sunbird"], request=s.SunbirdUpdateSerializer, responses=SunbirdEnvelopeSerializer)
class GroupUpdateView(DialectAPIView):
    """Change a group, its members and its activities. Per-item problems come back in `result.error`."""

    dialect = Sunbird

    sunbird_api_id = "api.group.update"
    sunbird_invalid = SunbirdCode(
        "GS_UDT02", 400, f"Failed to update group, fields are missing or invalid in the request. {CONTACT}"
    )
    sunbird_server_error = SunbirdCode("GS_UDT03", 500, f"Failed to update group, database error. {CONTACT}")
    sunbird_error_codes = {
        "group_not_found": SunbirdCode("GS_UDT07", 400, f"Failed to update, group does not exist. {CONTACT}"),
        "group_suspended": SunbirdCode("GS_UDT08", 400, "{error}"),
        "not_group_admin": SunbirdCode(
            "GS_UDT09", 401, f"Failed to update group, administrator rights required. {CONTACT}"
        ),
        "not_group_creator": SunbirdCode(
            "GS_UDT09", 401, f"Failed to update group, only the creator may set it inactive. {CONTACT}"
        ),
    }

    def patch(self, request):
        data = sunbird_request(request.data, serializer_class=s.SunbirdUpdateSerializer)
        names = {"name": "name", "description": "description", "membershipType": "membership_type"}
        changes = {field: data[key] for key, field in names.items() if key in data}
        if data.get("status"):
            changes["status"] = data["status"]
        members, activities = data.get("members", {}), data.get("activities", {})
        result = services.group_update(
            actor=request.user,
            group_id=data["groupId"],
            changes=changes,
            members_add=[MemberSpec(m["userId"], role=m.get("role")) for m in members.get("add", [])],
            members_edit=[
                MemberSpec(m["userId"], role=m.get("role"), visited=m.get("visited")) for m in members.get("edit", [])
            ],
            members_remove=members.get("remove", []),
            activities_add=[ActivitySpec(a["id"], a["type"]) for a in activities.get("add", [])],
            activities_remove=activities.get("remove", []),
        )
        body = {"response": "success"} | _item_errors(result, member_limit="GS_UDT05", activity_limit="GS_UDT06")
        return Response(body)


@extend_schema(tags=["sunbird"], request=s.SunbirdListSerializer, responses=SunbirdEnvelopeSerializer)
class GroupListView(DialectAPIView):
    """The groups a user belongs to (`request.filters.userId`), admin roles first."""

    dialect = Sunbird

    sunbird_api_id = "api.group.list"
    sunbird_invalid = SunbirdCode(
        "GS_LST02", 400, f"Failed to list groups, fields are missing or invalid in the request. {CONTACT}"
    )
    sunbird_server_error = SunbirdCode("GS_LST03", 500, f"Failed to list groups, database error. {CONTACT}")

    def request_writes(self, request):
        return False

    def post(self, request):
        data = sunbird_request(request.data, serializer_class=s.SunbirdListSerializer)
        rows = selectors.group_list_for_member(user_id=data["filters"]["userId"])
        groups = [s.sunbird_group(row.group) | {"memberRole": row.role, "visited": row.visited} for row in rows]
        return Response({"group": groups})


@extend_schema(tags=["sunbird"], request=s.SunbirdGroupIdSerializer, responses=SunbirdEnvelopeSerializer)
class GroupDeleteView(DialectAPIView):
    """Delete a group: its creator only."""

    dialect = Sunbird

    sunbird_api_id = "api.group.delete"
    sunbird_invalid = SunbirdCode(
        "GS_DLT02", 400, f"Failed to delete group, fields are missing or invalid in the request. {CONTACT}"
    )
    sunbird_server_error = SunbirdCode("GS_DLT03", 500, f"Failed to delete group, database error. {CONTACT}")
    sunbird_error_codes = {
        "group_not_found": SunbirdCode("GS_DLT07", 400, f"Failed to delete group, group does not exist. {CONTACT}"),
        "not_group_creator": SunbirdCode(
            "GS_DLT10", 401, f"Failed to delete group, only group creators can delete the group. {CONTACT}"
        ),
    }

    def post(self, request):
        data = sunbird_request(request.data, serializer_class=s.SunbirdGroupIdSerializer)
        services.group_delete(actor=request.user, group_id=data["groupId"])
        return Response({"response": "SUCCESS"})


@extend_schema(tags=["sunbird"], request=s.SunbirdMembershipUpdateSerializer, responses=SunbirdEnvelopeSerializer)
class MembershipUpdateView(DialectAPIView):
    """Mark groups visited by the calling user: `{"request": {"userId", "groups": [{"groupId", "visited"}]}}`."""

    dialect = Sunbird

    sunbird_api_id = "api.group.membership.update"
    sunbird_invalid = SunbirdCode(
        "GS_MBRSHP_UDT02", 400, f"Failed to update membership, fields are missing or invalid. {CONTACT}"
    )
    sunbird_server_error = SunbirdCode(
        "GS_MBRSHP_UDT03", 500, f"Failed to update membership, database error. {CONTACT}"
    )
    unauthorized = SunbirdCode("GS_MBRSHP_UDT01", 401, f"Failed to update membership, unauthorised user. {CONTACT}")
    sunbird_error_codes = {"not_self": unauthorized}

    def patch(self, request):
        data = sunbird_request(request.data, serializer_class=s.SunbirdMembershipUpdateSerializer)
        if any("role" in item or "status" in item for item in data["groups"]):
            raise SunbirdError(self.unauthorized)
        visits = [(item["groupId"], item["visited"]) for item in data["groups"] if "visited" in item]
        services.membership_visited_update(actor=request.user, user_id=data["userId"], visits=visits)
        return Response({"response": "SUCCESS"})
