"""The Sunbird platform dialect: the envelope of Sunbird's platform services (the form service, the group activity
aggregator), which differs from the group service's (`apps.common.api.sunbird`).

Success: {"id": "api.form.read", "ver": "1.0", "ts": "2026-01-16T10:58:55.668Z",
          "params": {"resmsgid": <uuid>, "msgid": <X-Request-ID or uuid>, "status": "successful", "err": null,
                     "errmsg": null},
          "responseCode": "OK", "result": {...}}
Error:   the same with "params": {..., "status": "failed", "err": <code>, "errmsg": <message>}, "result": {} and
         "responseCode" CLIENT_ERROR (4xx), UNAUTHORIZED_ACCESS (401), FORBIDDEN (403), RESOURCE_NOT_FOUND (404) or
         SERVER_ERROR (5xx). Every error carries `err` and `errmsg`: Sunbird's client reads `params.errmsg`.
The aggregator's service writes the same envelope with its own version, time format and statuses
(apps.common.api.sunbird_agg subclasses the dialect).
The client application authenticates with `Authorization: Bearer <Tally API key>`.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.common.api.authentication import ApiKeyAuthentication, api_key_authenticate
from apps.common.api.dialects import Dialect
from apps.common.api.parsers import StrictJSONParser
from apps.common.exceptions import ServiceError


@dataclass(frozen=True)
class PlatformCode:
    """An error as a Sunbird platform service reports it: code, HTTP status, message (the response class, e.g.
    CLIENT_ERROR, follows from the status)."""

    err: str
    status: int
    message: str


class PlatformError(exceptions.APIException):
    """An error a view raises with its own Sunbird code."""

    def __init__(self, code: PlatformCode):
        self.code = code
        self.status_code = code.status
        super().__init__(code.message)


class SunbirdClientAuthentication(ApiKeyAuthentication):
    """The client application's key, sent as `Authorization: Bearer <key>` (other headers are not read)."""

    www_authenticate_scheme = "Bearer"

    def authenticate(self, request):
        scheme, _, key = request.headers.get("Authorization", "").strip().partition(" ")
        api_key = api_key_authenticate(key.strip()) if scheme.lower() == "bearer" and key.strip() else None
        return (api_key.user, api_key) if api_key else None


class SunbirdClientAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = SunbirdClientAuthentication
    name = "SunbirdPlatformClientKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "The client application's Tally API key."}


class SunbirdPlatformRenderer(JSONRenderer):
    """Wraps a view's bare payload, or an error from the dialect's error_response, in the envelope of the view's
    dialect (a SunbirdPlatform subclass says how its service writes the version, time and statuses)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        response, view, request = (renderer_context.get(k) for k in ("response", "view", "request"))
        dialect = getattr(view, "dialect", SunbirdPlatform)
        failed = response is not None and response.status_code >= 400
        response_code = dialect.response_code(response.status_code) if failed else "OK"
        envelope = {
            "id": getattr(view, "sunbird_api_id", dialect.default_api_id),
            "ver": dialect.version,
            "ts": dialect.timestamp(timezone.now()),
            "params": {
                "resmsgid": dialect.response_message_id(),
                "msgid": (request.headers.get("X-Request-ID") if request else None) or str(uuid.uuid4()),
                "status": dialect.failed_status(response_code) if failed else dialect.success_status,
                "err": data["err"] if failed else None,
                "errmsg": data["errmsg"] if failed else None,
            },
            "responseCode": response_code,
            "result": {} if failed else data,
        }
        return super().render(envelope, accepted_media_type, renderer_context)


class SunbirdPlatformParamsSerializer(serializers.Serializer):
    resmsgid = serializers.CharField(allow_null=True)
    msgid = serializers.CharField()
    status = serializers.CharField()
    err = serializers.CharField(allow_null=True)
    errmsg = serializers.CharField(allow_null=True)


class SunbirdPlatformEnvelopeSerializer(serializers.Serializer):
    """The envelope of every response, success or error (`result` varies by operation; `{}` on errors)."""

    id = serializers.CharField()
    ver = serializers.CharField()
    ts = serializers.CharField()
    params = SunbirdPlatformParamsSerializer()
    responseCode = serializers.CharField()
    result = serializers.JSONField()


class SunbirdPlatform(Dialect):
    """Sunbird's platform services; this class is the form service, and the aggregator
    (apps.common.api.sunbird_agg) is a subclass that changes what its service writes differently."""

    name = "sunbird-platform"
    url_prefixes = ("/api/data/v1/form/",)
    error_serializer = SunbirdPlatformEnvelopeSerializer
    authentication_classes: ClassVar[tuple] = (SunbirdClientAuthentication,)
    permission_classes = (IsAuthenticated,)
    parser_classes = (StrictJSONParser,)
    renderer_classes: ClassVar[tuple] = (SunbirdPlatformRenderer,)

    default_api_id = "api.sunbird"
    version = "1.0"
    success_status = "successful"
    unauthorized = PlatformCode("UNAUTHORIZED", 401, "You are an unauthorized.Contact your system administrator")
    response_codes = {401: "UNAUTHORIZED_ACCESS", 403: "FORBIDDEN", 404: "RESOURCE_NOT_FOUND"}

    @staticmethod
    def timestamp(moment: datetime) -> str | None:
        return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    @staticmethod
    def response_message_id() -> str | None:
        return str(uuid.uuid4())

    @classmethod
    def response_code(cls, status: int) -> str:
        return cls.response_codes.get(status, "SERVER_ERROR" if status >= 500 else "CLIENT_ERROR")

    @classmethod
    def failed_status(cls, response_code: str) -> str:
        return "failed"

    @classmethod
    def invalid_request(cls, exc: exceptions.APIException, view) -> PlatformCode:
        """A body or request the operation cannot take: the view's own code, and a sentence naming the fields."""
        return PlatformCode(getattr(view, "invalid_request_err", "INVALID_REQUEST"), 400, _message(exc))

    @classmethod
    def error_response(cls, exc, context):
        if isinstance(exc, PlatformError):
            code = exc.code
        elif isinstance(exc, ServiceError):
            code = PlatformCode(exc.code.upper(), cls.status_of(exc), exc.message)
        elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            code = cls.unauthorized
        elif isinstance(exc, exceptions.ParseError | exceptions.ValidationError | exceptions.UnsupportedMediaType):
            code = cls.invalid_request(exc, context.get("view"))
        elif isinstance(exc, exceptions.APIException):
            codes = exc.get_codes()
            err = codes.upper() if isinstance(codes, str) else "CLIENT_ERROR"
            code = PlatformCode(err, exc.status_code, str(exc.detail))
        else:
            code = PlatformCode("SERVER_ERROR", 500, "Internal server error.")
        response = Response({"err": code.err, "errmsg": code.message}, status=code.status)
        if code.status == 401:
            response["WWW-Authenticate"] = "Bearer"
        return response


def _message(exc: exceptions.APIException) -> str:
    """One readable sentence out of a DRF error's detail (validation details name their fields)."""
    detail = exc.detail
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {_flat(value)}" for field, value in detail.items())
    return _flat(detail)


def _flat(value) -> str:
    if isinstance(value, list):
        return " ".join(_flat(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_flat(item)}" for key, item in value.items())
    return str(value)


def platform_request(data, *, serializer_class: type[serializers.Serializer]) -> dict:
    """The validated `request` object of a body; a 400 naming what is missing or invalid."""
    inner = data.get("request") if isinstance(data, dict) else None
    if not isinstance(inner, dict):
        raise exceptions.ValidationError({"request": "missing, or not an object"})
    serializer = serializer_class(data=inner)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
