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

import uuid
from dataclasses import dataclass

from django.http import Http404
from django.utils import timezone
from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework_csv.renderers import CSVRenderer

from apps.common.api.dialects import Dialect
from apps.common.api.sunbird import SunbirdAuthentication, sunbird_timestamp
from apps.common.exceptions import NotFoundError, PermissionDeniedError, ServiceError


@dataclass(frozen=True)
class AggregatorCode:
    """An error as lms-service reports it: code, HTTP status, response class, message."""

    err: str
    status: int
    response_code: str
    message: str


INVALID_REQUESTED_DATA = AggregatorCode(
    "INVALID_REQUESTED_DATA", 400, "CLIENT_ERROR", "Requested data for this operation is not valid."
)
UNAUTHORIZED = AggregatorCode("UNAUTHORIZED_USER", 401, "UNAUTHORIZED", "You are not authorized.")
SERVER_ERROR = AggregatorCode("SERVER_ERROR", 500, "SERVER_ERROR", "Internal server error.")
RESPONSE_CODES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "RESOURCE_NOT_FOUND"}


class AggregatorError(exceptions.APIException):
    def __init__(self, code: AggregatorCode):
        self.code = code
        self.status_code = code.status
        super().__init__(code.message)


def aggregator_request(data, *, required: tuple[tuple[str, AggregatorCode], ...]) -> dict:
    """The `request` object of a body, its `required` fields checked in order: INVALID_REQUESTED_DATA when it is
    missing, empty or not an object; the field's own error when a field is missing, blank or not a string."""
    inner = data.get("request") if isinstance(data, dict) else None
    if not isinstance(inner, dict) or not inner:
        raise AggregatorError(INVALID_REQUESTED_DATA)
    for name, code in required:
        value = inner.get(name)
        if not isinstance(value, str) or not value.strip():
            raise AggregatorError(code)
    return inner


def _response_code(status: int) -> str:
    return RESPONSE_CODES.get(status, "SERVER_ERROR" if status >= 500 else "CLIENT_ERROR")


class AggregatorRenderer(JSONRenderer):
    """Wraps a view's bare payload, or an error from SunbirdAggregator.error_response, in the envelope."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        response, view, request = (renderer_context.get(k) for k in ("response", "view", "request"))
        failed = response is not None and response.exception
        params = {
            "resmsgid": None,
            "msgid": (request.headers.get("X-Request-ID") if request else None) or str(uuid.uuid4()),
            "err": data["err"] if failed else None,
            "status": data["responseCode"] if failed else "success",
            "errmsg": data["errmsg"] if failed else None,
        }
        envelope = {
            "id": getattr(view, "sunbird_api_id", "api.group.activity.agg"),
            "ver": "v1",
            "ts": sunbird_timestamp(timezone.now()),
            "params": params,
            "responseCode": data["responseCode"] if failed else "OK",
            "result": {} if failed else data,
        }
        return super().render(envelope, accepted_media_type, renderer_context)


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


class AggregatorEnvelopeSerializer(serializers.Serializer):
    """The lms-service envelope (the `result` varies by operation)."""

    id = serializers.CharField()
    ver = serializers.CharField()
    ts = serializers.CharField()
    params = serializers.JSONField()
    responseCode = serializers.CharField()
    result = serializers.JSONField()


class SunbirdAggregator(Dialect):
    name = "sunbird_agg"
    url_prefixes = ("/api/data/v1/group/",)
    authentication_classes = (SunbirdAuthentication,)
    permission_classes = (IsAuthenticated,)
    parser_classes = (JSONParser,)
    renderer_classes = (AggregatorRenderer, AggregatorCSVRenderer)
    error_serializer = AggregatorEnvelopeSerializer
    error_statuses = {NotFoundError: 404, PermissionDeniedError: 403, ServiceError: 400}

    @classmethod
    def error_response(cls, exc, context):
        if isinstance(exc, Http404):  # an unknown `format`
            exc = exceptions.NotFound()
        if isinstance(exc, AggregatorError):
            code = exc.code
        elif isinstance(exc, ServiceError):
            status = cls.status_of(exc)
            code = AggregatorCode(exc.code.upper(), status, _response_code(status), exc.message)
        elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            code = UNAUTHORIZED
        elif isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
            code = INVALID_REQUESTED_DATA
        elif isinstance(exc, exceptions.APIException):
            codes = exc.get_codes()
            err = codes.upper() if isinstance(codes, str) else "CLIENT_ERROR"
            code = AggregatorCode(err, exc.status_code, _response_code(exc.status_code), str(exc.detail))
        else:
            code = SERVER_ERROR
        body = {"err": code.err, "errmsg": code.message, "responseCode": code.response_code}
        response = Response(body, status=code.status)
        response.exception = True
        if code.status == 401:
            response["WWW-Authenticate"] = "Bearer"
        return response

    @classmethod
    def finalize_response(cls, view, request, response):
        """Errors stay JSON whatever was accepted; a CSV table is a download named after the operation."""
        if getattr(response, "exception", False) and isinstance(response.accepted_renderer, CSVRenderer):
            response.accepted_renderer = AggregatorRenderer()
            response.accepted_media_type = AggregatorRenderer.media_type
        elif isinstance(getattr(response, "accepted_renderer", None), CSVRenderer):
            response["Content-Disposition"] = f'attachment; filename="{view.sunbird_api_id}.csv"'
        return response
