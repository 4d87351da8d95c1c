"""The Sunbird platform dialect: the envelope of Sunbird's platform services (the form service, the group activity
aggregator), which differs from the group service's (`apps.common.api.sunbird`).

Success: {"id": "api.form.read", "ver": "1.0", "ts": "2026-01-16T10:58:55.668Z",
          "params": {"resmsgid": <uuid>, "msgid": <X-Request-ID or uuid>, "status": "successful", "err": null,
                     "errmsg": null},
          "responseCode": "OK", "result": {...}}
Error:   the same with "params": {..., "status": "failed", "err": <code>, "errmsg": <message>}, "result": {} and
         "responseCode" CLIENT_ERROR (400), UNAUTHORIZED_ACCESS (401), FORBIDDEN (403), RESOURCE_NOT_FOUND (404) or
         SERVER_ERROR (500). Every error carries `err` and `errmsg`: Sunbird's client reads `params.errmsg`.
The client application authenticates with `Authorization: Bearer <Tally API key>`.
"""

import uuid
from datetime import UTC

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.common.api.authentication import ApiKeyAuthentication
from apps.common.api.dialects import Dialect
from apps.common.api.parsers import StrictJSONParser
from apps.common.exceptions import ServiceError

RESPONSE_CODES = {
    400: "CLIENT_ERROR",
    401: "UNAUTHORIZED_ACCESS",
    403: "FORBIDDEN",
    404: "RESOURCE_NOT_FOUND",
    405: "CLIENT_ERROR",
    413: "CLIENT_ERROR",
    415: "CLIENT_ERROR",
    429: "CLIENT_ERROR",
}


class SunbirdPlatformError(exceptions.APIException):
    """An error a view raises with its own Sunbird code."""

    def __init__(self, *, err: str, message: str, status: int = 400):
        super().__init__(message)
        self.err, self.message, self.status_code = err, message, status


class SunbirdClientAuthentication(ApiKeyAuthentication):
    """The client application's key, sent as `Authorization: Bearer <key>` (other headers are not read)."""

    www_authenticate_scheme = "Bearer"

    def authenticate(self, request):
        scheme, _, key = request.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return None
        return super().authenticate(request)


class SunbirdClientAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = SunbirdClientAuthentication
    name = "SunbirdPlatformClientKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "The client application's Tally API key."}


class SunbirdPlatformRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        response, view, request = (renderer_context.get(k) for k in ("response", "view", "request"))
        failed = response is not None and response.status_code >= 400
        envelope = {
            "id": getattr(view, "api_id", "api.sunbird"),
            "ver": "1.0",
            "ts": timezone.now().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "params": {
                "resmsgid": str(uuid.uuid4()),
                "msgid": (request.headers.get("X-Request-ID") if request else None) or str(uuid.uuid4()),
                "status": "failed" if failed else getattr(view, "success_status", "successful"),
                "err": data["err"] if failed else None,
                "errmsg": data["errmsg"] if failed else None,
            },
            "responseCode": RESPONSE_CODES.get(response.status_code, "SERVER_ERROR") if failed else "OK",
            "result": {} if failed else data,
        }
        return super().render(envelope, accepted_media_type, renderer_context)


class SunbirdPlatformParamsSerializer(serializers.Serializer):
    resmsgid = serializers.CharField()
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
    name = "sunbird-platform"
    url_prefixes = ("/api/data/v1/form/",)
    error_serializer = SunbirdPlatformEnvelopeSerializer
    authentication_classes = (SunbirdClientAuthentication,)
    permission_classes = (IsAuthenticated,)
    parser_classes = (StrictJSONParser,)
    renderer_classes = (SunbirdPlatformRenderer,)

    @classmethod
    def error_response(cls, exc, context):
        view = context.get("view")
        if isinstance(exc, SunbirdPlatformError):
            err, message, status = exc.err, exc.message, exc.status_code
        elif isinstance(exc, ServiceError):
            err, message, status = exc.code.upper(), exc.message, cls.status_of(exc)
        elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            err, message, status = "UNAUTHORIZED", "You are an unauthorized.Contact your system administrator", 401
        elif isinstance(exc, exceptions.ParseError | exceptions.ValidationError | exceptions.UnsupportedMediaType):
            err, message, status = getattr(view, "invalid_request_err", "INVALID_REQUEST"), _message(exc), 400
        elif isinstance(exc, exceptions.APIException):
            err, message, status = str(exc.get_codes()).upper(), str(exc.detail), exc.status_code
        else:
            err, message, status = "SERVER_ERROR", "Internal server error.", 500
        response = Response({"err": err, "errmsg": message}, status=status)
        if status == 401:
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
