"""The Sunbird group activity aggregator dialect (lms-service): the groups API's authentication, lms-service's
envelope.

Success: {"id": "api.group.activity.agg", "ver": "v1", "ts": "2020-11-27 16:29:46:161+0000",
          "params": {"resmsgid": null, "msgid": <uuid>, "err": null, "status": "success", "errmsg": null},
          "responseCode": "OK", "result": {...}}
Error:   the same with params.err the error code, params.status and responseCode the response class
         (CLIENT_ERROR, UNAUTHORIZED, FORBIDDEN, RESOURCE_NOT_FOUND, SERVER_ERROR) and "result": {}.
A view names its API id in `sunbird_api_id`. With `Accept: text/csv` or `?format=csv`, a success is the member
table as CSV (one row per activity and member, a column per metric); errors stay JSON.
"""

from datetime import datetime

from rest_framework import exceptions
from rest_framework_csv.renderers import CSVRenderer

from apps.common.api.sunbird import SunbirdAuthentication, sunbird_timestamp
from apps.common.api.sunbird_platform import PlatformCode, PlatformError, SunbirdPlatform, SunbirdPlatformRenderer
from apps.common.exceptions import NotFoundError, PermissionDeniedError, ServiceError

INVALID_REQUESTED_DATA = PlatformCode("INVALID_REQUESTED_DATA", 400, "Requested data for this operation is not valid.")


def aggregator_request(data, *, required: tuple[tuple[str, PlatformCode], ...]) -> dict:
    """The `request` object of a body, its `required` fields checked in order: INVALID_REQUESTED_DATA when it is
    missing, empty or not an object; the field's own error when a field is missing, blank or not a string."""
    inner = data.get("request") if isinstance(data, dict) else None
    if not isinstance(inner, dict) or not inner:
        raise PlatformError(INVALID_REQUESTED_DATA)
    for name, code in required:
        value = inner.get(name)
        if not isinstance(value, str) or not value.strip():
            raise PlatformError(code)
    return inner


BASE_COLUMNS = ("groupId", "activityId", "activityType", "userId", "name", "role", "status")


class AggregatorCSVRenderer(CSVRenderer):
    """The member table of one activity's result (`activity`, `members`) or of several (`activities`)."""

    def render(self, data, media_type=None, renderer_context=None):
        results = data.get("activities", [data])
        rows = []
        for result in results:
            activity = result["activity"]
            for member in result["members"]:
                row = {"groupId": data["groupId"], "activityId": activity["id"], "activityType": activity["type"]}
                row |= {name: member[name] for name in BASE_COLUMNS[3:]}
                rows.append(row | {metric["metric"]: metric["value"] for metric in member["agg"]})
        metrics = sorted({key for row in rows for key in row} - set(BASE_COLUMNS))
        context = {**(renderer_context or {}), "header": [*BASE_COLUMNS, *metrics]}
        return super().render(rows, media_type, context)


class SunbirdAggregator(SunbirdPlatform):
    """lms-service's envelope: `ver` v1, the groups API's time format, no response message id, `params.status`
    "success" or the response class; the groups API's authentication (client key and user token)."""

    name = "sunbird_agg"
    url_prefixes = ("/api/data/v1/group/",)
    authentication_classes = (SunbirdAuthentication,)
    renderer_classes = (SunbirdPlatformRenderer, AggregatorCSVRenderer)
    error_statuses = {NotFoundError: 404, PermissionDeniedError: 403, ServiceError: 400}

    default_api_id = "api.group.activity.agg"
    version = "v1"
    success_status = "success"
    unauthorized = PlatformCode("UNAUTHORIZED_USER", 401, "You are not authorized.")
    response_codes = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "RESOURCE_NOT_FOUND"}

    @staticmethod
    def timestamp(moment: datetime) -> str | None:
        return sunbird_timestamp(moment)

    @staticmethod
    def response_message_id() -> None:
        return None

    @classmethod
    def failed_status(cls, response_code: str) -> str:
        return response_code

    @classmethod
    def invalid_request(cls, exc: exceptions.APIException, view) -> PlatformCode:
        return INVALID_REQUESTED_DATA

    @classmethod
    def finalize_response(cls, view, request, response):
        """Errors stay JSON whatever was accepted; a CSV table is a download named after the operation."""
        if getattr(response, "exception", False) and isinstance(response.accepted_renderer, CSVRenderer):
            response.accepted_renderer = SunbirdPlatformRenderer()
            response.accepted_media_type = SunbirdPlatformRenderer.media_type
        elif isinstance(getattr(response, "accepted_renderer", None), CSVRenderer):
            response["Content-Disposition"] = f'attachment; filename="{view.sunbird_api_id}.csv"'
        return response
