"""The Sunbird dialect: request and response envelopes, error shape, and authentication of the groups service.

Success: {"id": "api.group.create", "ver": "v1", "ts": "2020-12-01 20:52:25:226+0000", "params": null,
          "responseCode": 200, "result": {...}}
Error:   the same with "params": {"resmsgid": null, "msgid": ..., "err": "GS_CRT02", "status": "failed",
          "errmsg": ...} and "result": {}. HTTP 400 or 401 as the reference answers (not-found is 400).
Views name the dialect (`dialect = Sunbird`), their API id, their validation error, and how the service errors they
can meet map to Sunbird codes.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.common.api.authentication import api_keys_authenticate, jwt_claims_decode, raw_key_from_headers
from apps.common.api.dialects import Dialect
from apps.common.api.parsers import StrictJSONParser
from apps.common.exceptions import ServiceError
from apps.common.ids import uuid_or_none
from apps.common.selectors import user_get_active

UNAUTHORIZED = ("GS_UNAUTHORIZED", 401, "You are an unauthorized.Contact your system administrator")


@dataclass(frozen=True)
class SunbirdCode:
    """An error as Sunbird reports it: code, HTTP status, message."""

    err: str
    status: int
    message: str


def sunbird_timestamp(moment: datetime | None) -> str | None:
    """`yyyy-MM-dd HH:mm:ss:SSS+0000`, in UTC."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S:") + f"{moment.microsecond // 1000:03d}+0000"


class SunbirdError(exceptions.APIException):
    def __init__(self, code: SunbirdCode, message: str | None = None):
        self.code = code
        self.message = message or code.message
        self.status_code = code.status
        super().__init__(self.message)


def _user_from_token(token: str, api_keys: dict):
    """The active user a Sunbird user token names: the user's own API key (in `api_keys`, the request's keys looked
    up together) or a JWT (`sub`, last `:` segment)."""
    if token in api_keys:
        return api_keys[token].user
    subject = _jwt_subject(token)
    if subject is None:
        return None
    public_id = uuid_or_none(subject.rsplit(":", 1)[-1])
    if public_id is None:
        return None
    return user_get_active(public_id=public_id)


def _jwt_keys() -> list[tuple[str, str]]:
    keys = []
    if settings.SUNBIRD_JWT_HS256_SECRET:
        keys.append(("HS256", settings.SUNBIRD_JWT_HS256_SECRET))
    marker = "-----END PUBLIC KEY-----"
    for pem in settings.SUNBIRD_JWT_RS256_PUBLIC_KEYS.split(marker):
        if pem.strip():
            keys.append(("RS256", pem.strip() + "\n" + marker + "\n"))
    return keys


def _jwt_subject(token: str) -> str | None:
    for algorithm, key in _jwt_keys():
        try:
            claims = jwt_claims_decode(token, key=key, algorithm=algorithm)
        except jwt.PyJWTError:
            continue
        return str(claims["sub"])
    return None


def _managed_user(token: str, *, manager, api_keys: dict):
    """The managed user (Sunbird's MUA) a `x-authenticated-for` token names, when `manager` manages that account."""
    managed = _user_from_token(token, api_keys)
    if managed is None or managed.managed_by_id != manager.pk:
        raise exceptions.AuthenticationFailed()
    return managed


class SunbirdAuthentication(BaseAuthentication):
    """`Authorization: Bearer <api key>` names the client application and `x-authenticated-user-token` the logged-in
    user. Both must be valid; the request then runs as that user, or, with `x-authenticated-for` (a token of the
    same kinds), as the managed account the logged-in user manages. A user token that is an API key brings its
    scopes along (`acting_api_keys`): a read-only key cannot write as its user through another client key."""

    def authenticate(self, request):
        client_key = raw_key_from_headers({"Authorization": request.headers.get("Authorization", "")})
        token = request.headers.get("x-authenticated-user-token", "").strip()
        managed_token = request.headers.get("x-authenticated-for", "").strip()
        api_keys = api_keys_authenticate([key for key in (client_key, token, managed_token) if key])
        client = api_keys.get(client_key) if client_key else None
        user = _user_from_token(token, api_keys) if client and token else None
        if user is None:
            raise exceptions.AuthenticationFailed()
        if managed_token:
            user = _managed_user(managed_token, manager=user, api_keys=api_keys)
        request.acting_api_keys = [api_keys[key] for key in (token, managed_token) if key in api_keys]
        return user, client

    def authenticate_header(self, request):
        return "Bearer"


class SunbirdRenderer(JSONRenderer):
    """Wraps a view's bare payload (or an error from Sunbird.error_response) in the Sunbird envelope."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        response, view, request = (renderer_context.get(k) for k in ("response", "view", "request"))
        envelope = {
            "id": getattr(view, "sunbird_api_id", "api.group"),
            "ver": "v1",
            "ts": sunbird_timestamp(timezone.now()),
            "params": None,
            "responseCode": response.status_code if response is not None else 200,
            "result": data,
        }
        if response is not None and response.exception:
            envelope["ver"] = _request_version(request)
            envelope["params"] = {
                "resmsgid": None,
                "msgid": (request.headers.get("X-Request-ID") if request else None) or str(uuid.uuid4()),
                "err": data["err"],
                "status": "failed",
                "errmsg": data["errmsg"],
            }
            envelope["result"] = {}
        return super().render(envelope, accepted_media_type, renderer_context)


def _request_version(request) -> str | None:
    body = getattr(request, "_full_data", None)
    version = body.get("ver") if isinstance(body, dict) else None
    return version if isinstance(version, str) else None


class SunbirdEnvelopeSerializer(serializers.Serializer):
    """The Sunbird envelope (the `result` varies by operation)."""

    id = serializers.CharField()
    ver = serializers.CharField(allow_null=True)
    ts = serializers.CharField()
    params = serializers.JSONField(allow_null=True)
    responseCode = serializers.IntegerField()
    result = serializers.JSONField()


class Sunbird(Dialect):
    """The Sunbird groups service. A view also sets `sunbird_api_id`, `sunbird_invalid` (the operation's validation
    error), `sunbird_server_error` and `sunbird_error_codes` (service error code -> SunbirdCode)."""

    name = "sunbird"
    url_prefixes = ("/api/group/",)
    authentication_classes = (SunbirdAuthentication,)
    permission_classes = (IsAuthenticated,)
    renderer_classes = (SunbirdRenderer,)
    parser_classes = (StrictJSONParser,)
    error_serializer = SunbirdEnvelopeSerializer

    @classmethod
    def error_response(cls, exc, context):
        view = context.get("view")
        if isinstance(exc, SunbirdError):
            code, message = exc.code, exc.message
        elif isinstance(exc, ServiceError):
            code = getattr(view, "sunbird_error_codes", {}).get(exc.code) or view.sunbird_invalid
            message = code.message.format(error=exc.message) if "{error}" in code.message else code.message
        elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            code = SunbirdCode(*UNAUTHORIZED)
            message = code.message
        elif isinstance(exc, exceptions.ParseError | exceptions.ValidationError | exceptions.UnsupportedMediaType):
            code, message = view.sunbird_invalid, view.sunbird_invalid.message
        elif isinstance(exc, exceptions.PermissionDenied):
            # Sunbird answers every refusal of authority 401; the message names what refused (a key's scopes).
            code = SunbirdCode(UNAUTHORIZED[0], 401, str(exc.detail))
            message = code.message
        elif isinstance(exc, exceptions.APIException):
            code = SunbirdCode(str(exc.get_codes()).upper(), exc.status_code, str(exc.detail))
            message = code.message
        else:
            code = getattr(view, "sunbird_server_error", SunbirdCode("SERVER_ERROR", 500, "Internal server error."))
            message = code.message
        response = Response({"err": code.err, "errmsg": message}, status=code.status)
        response.exception = True
        if code.status == 401:
            response["WWW-Authenticate"] = "Bearer"
        return response


def sunbird_request(data, *, serializer_class: type[serializers.Serializer]) -> dict:
    """The validated `request` object of a Sunbird body; the view's validation error when missing or invalid."""
    inner = data.get("request") if isinstance(data, dict) else None
    if not isinstance(inner, dict) or not inner:
        raise exceptions.ValidationError({"request": "missing or empty"})
    serializer = serializer_class(data=inner)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class SunbirdAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = SunbirdAuthentication
    name = ["SunbirdClientKey", "SunbirdUserToken"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "description": "The client application's Tally API key."},
            {
                "type": "apiKey",
                "in": "header",
                "name": "x-authenticated-user-token",
                "description": "The acting user: a JWT whose `sub` ends with the user's UUID, or the user's API key.",
            },
        ]
