"""The Learnosity Data API dialect, as the `learnosity-sdk` package speaks it.

A call is a form-encoded POST of `security` (JSON with consumer_key, domain, timestamp[, expires][, user_id] and
a `$02$` HMAC-SHA256 `signature`), `request` (JSON) and `action` (get, set, update, delete). The signature covers
"consumer_key_domain_timestamp[_expires][_user_id]_<request as sent>_<action>": it is checked over the `request`
string exactly as received, never over a re-serialisation, and compared in constant time.

Success: {"meta": {"status": true, "timestamp": <unix s>[, "records": n][, ...]}, "data": ...}
Error:   {"meta": {"status": false, "timestamp": <unix s>, "message": "...", "code": <n>}, "data": null}

Codes (the reference's where it has them): 20000 missing parameter, 20001 length, 20002 too many, 20003 type,
20004 value (HTTP 400; 404 for an unknown dataset, 409 for a used dataset id); 10001 a refused signature, consumer
or time (HTTP 403); 10000 anything else (405, 429, 500).

Consumers belong to the app that serves the dialect: it names a lookup `(consumer_key) -> consumer or None` in
its AppConfig as `learnosity_consumer_lookup` (the consumer has `consumer_secret`), so this module imports no app.
"""

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.module_loading import import_string
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.common.api.dialects import Dialect
from apps.common.api.parsers import RawBodyParser
from apps.common.exceptions import ServiceError
from apps.common.safe_json import JSONError, json_load

SIGNATURE_PREFIX = "$02$"
SECURITY_KEYS = ("consumer_key", "domain", "timestamp", "expires", "user_id")
REQUIRED_SECURITY_KEYS = ("consumer_key", "domain", "timestamp", "signature")
TIMESTAMP = re.compile(r"^\d{8}-\d{4}$")
# The version segments the reference accepts in front of an endpoint.
VERSION_PATTERN = r"(?:(?P<version>v1|v\d{4}\.\d\.LTS|latest|latest-lts|developer)/)?"

CODE_MISSING, CODE_TYPE, CODE_INVALID, CODE_REFUSED, CODE_ERROR = 20000, 20003, 20004, 10001, 10000
CODES = {"missing": CODE_MISSING, "length": 20001, "too_many": 20002, "type": CODE_TYPE, "invalid": CODE_INVALID}


class LearnosityError(exceptions.APIException):
    """A refusal of the wire itself (security packet, form fields, action), with its meta code."""

    def __init__(self, message: str, *, code: int, status_code: int):
        super().__init__(message)
        self.meta_code = code
        self.status_code = status_code


def _refused(message: str) -> LearnosityError:
    return LearnosityError(message, code=CODE_REFUSED, status_code=status.HTTP_403_FORBIDDEN)


def _bad(message: str, code: int) -> LearnosityError:
    return LearnosityError(message, code=code, status_code=status.HTTP_400_BAD_REQUEST)


@dataclass(frozen=True)
class SignedRequest:
    """What a verified call carries: its consumer, its action and its request object (`meta` removed)."""

    consumer: Any
    action: str
    data: dict


@cache
def _consumer_lookup():
    for config in apps.get_app_configs():
        if getattr(config, "learnosity_consumer_lookup", None):
            return import_string(config.learnosity_consumer_lookup)
    raise LookupError("no app names a learnosity_consumer_lookup")


def signature_make(*, secret: str, security: dict, request: str | None, action: str | None) -> str:
    """The `$02$` signature of a call, as the SDK computes it."""
    parts = [str(security[key]) for key in SECURITY_KEYS if key in security]
    parts += [part for part in (request, action) if part]
    digest = hmac.new(secret.encode(), "_".join(parts).encode(), hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def _moment(value, name: str) -> datetime:
    if not isinstance(value, str) or not TIMESTAMP.match(value):
        raise _refused(f"security.{name} must be YYYYMMDD-HHMM (UTC)")
    try:
        return datetime.strptime(value, "%Y%m%d-%H%M").replace(tzinfo=UTC)
    except ValueError:
        raise _refused(f"security.{name} is not a date") from None


def _security(form) -> dict:
    raw = form.get("security")
    if not raw:
        raise _bad("Missing mandatory parameter: security", CODE_MISSING)
    try:
        security = json_load(raw)
    except JSONError:
        security = None
    if not isinstance(security, dict):
        raise _bad("Invalid parameter type: security must be a JSON object", CODE_TYPE)
    if missing := [key for key in REQUIRED_SECURITY_KEYS if key not in security]:
        raise _bad(f"Missing mandatory parameter: security.{missing[0]}", CODE_MISSING)
    if unknown := sorted(set(security) - {*SECURITY_KEYS, "signature"}):
        raise _bad(f"Invalid parameter value: unknown security key {unknown[0]}", CODE_INVALID)
    if not all(isinstance(value, str) for value in security.values()):
        raise _bad("Invalid parameter type: security values must be strings", CODE_TYPE)
    return security


def _check_time(security: dict) -> None:
    now = timezone.now()
    skew = timedelta(seconds=settings.LEARNOSITY_TIMESTAMP_SKEW_SECONDS)
    stamped = _moment(security["timestamp"], "timestamp")
    if stamped > now + skew:
        raise _refused("security.timestamp is in the future")
    if "expires" in security:
        # minute precision: a request is good until the end of its `expires` minute
        if now >= _moment(security["expires"], "expires") + timedelta(minutes=1):
            raise _refused("security.expires has passed")
    elif now - stamped > skew:
        raise _refused("security.timestamp is too old")


class LearnosityAuthentication(BaseAuthentication):
    """Verifies a signed call (consumer, time, then signature over the raw `request` string) and parses its
    request only afterwards. The request's `auth` is the SignedRequest; there is no Django user."""

    def authenticate(self, request):
        if request.method != "POST":
            raise exceptions.MethodNotAllowed(request.method)
        form = request.data
        security = _security(form)
        action = form.get("action")
        if not action:
            raise _bad("Missing mandatory parameter: action", CODE_MISSING)
        raw_request = form.get("request") or None
        consumer = _consumer_lookup()(consumer_key=security["consumer_key"])
        if consumer is None:
            raise _refused("Unknown consumer")
        _check_time(security)
        expected = signature_make(
            secret=consumer.consumer_secret, security=security, request=raw_request, action=action
        )
        if not hmac.compare_digest(expected.encode(), security["signature"].encode()):
            raise _refused("Signatures do not match")
        try:
            data = json_load(raw_request) if raw_request else {}
        except JSONError:
            data = None
        if not isinstance(data, dict):
            raise _bad("Invalid parameter type: request must be a JSON object", CODE_TYPE)
        data.pop("meta", None)  # the SDK's telemetry
        return AnonymousUser(), SignedRequest(consumer=consumer, action=action, data=data)

    def authenticate_header(self, request):
        return None


class LearnosityAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = LearnosityAuthentication
    name = "LearnositySignature"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "query",
            "name": "security",
            "description": "Form field `security`: JSON with consumer_key, domain, timestamp[, expires] and the `$02$` "
            "HMAC-SHA256 signature over them, the `request` field as sent and the `action`.",
        }


class HasSignedRequest(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, SignedRequest)


class LearnosityRenderer(JSONRenderer):
    """Wraps a view's bare payload in `meta`/`data`; errors arrive already wrapped. A view adds meta keys with
    `learnosity_response`."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and not response.exception:
            meta = {"status": True, "timestamp": int(time.time())}
            if isinstance(data, list):
                meta["records"] = len(data)
            meta.update(getattr(response, "learnosity_meta", {}))
            data = {"meta": meta, "data": data}
        return super().render(data, accepted_media_type, renderer_context)


def learnosity_response(data, **meta) -> Response:
    """A success whose `meta` carries `meta` beside status and timestamp."""
    response = Response(data)
    response.learnosity_meta = meta
    return response


class LearnosityMetaSerializer(serializers.Serializer):
    status = serializers.BooleanField()
    timestamp = serializers.IntegerField()
    message = serializers.CharField(required=False)
    code = serializers.IntegerField(required=False)
    records = serializers.IntegerField(required=False)


class LearnosityErrorSerializer(serializers.Serializer):
    meta = LearnosityMetaSerializer()
    data = serializers.JSONField(allow_null=True)


class Learnosity(Dialect):
    """Data API calls: signed form posts, `meta`/`data` envelope, Learnosity error codes."""

    name = "learnosity"
    url_prefixes = ("/reports/", "/jobs", "/v1/", "/latest/", "/latest-lts/", "/developer/")
    authentication_classes = (LearnosityAuthentication,)
    permission_classes = (HasSignedRequest,)
    parser_classes = (FormParser, MultiPartParser)
    renderer_classes = (LearnosityRenderer,)
    error_serializer = LearnosityErrorSerializer

    @classmethod
    def error_body(cls, message: str, code: int) -> dict:
        return {
            "meta": {"status": False, "timestamp": int(time.time()), "message": message, "code": code},
            "data": None,
        }

    @classmethod
    def error_response(cls, exc, context):
        if isinstance(exc, ServiceError):
            status_code, code, message = cls.status_of(exc), CODES.get(exc.code, CODE_INVALID), exc.message
        elif isinstance(exc, LearnosityError):
            status_code, code, message = exc.status_code, exc.meta_code, str(exc.detail)
        elif isinstance(
            exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed | exceptions.PermissionDenied
        ):
            status_code, code, message = status.HTTP_403_FORBIDDEN, CODE_REFUSED, str(exc.detail)
        elif isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType | exceptions.ValidationError):
            status_code, code, message = status.HTTP_400_BAD_REQUEST, CODE_TYPE, "Invalid parameter type: the body"
        elif isinstance(exc, exceptions.NotFound):
            status_code, code, message = status.HTTP_404_NOT_FOUND, CODE_ERROR, "Not found"
        elif isinstance(exc, exceptions.APIException):
            status_code, code, message = exc.status_code, CODE_ERROR, str(exc.detail)
        else:
            status_code, code, message = status.HTTP_500_INTERNAL_SERVER_ERROR, CODE_ERROR, "An error has occurred"
        response = Response(cls.error_body(message, code), status=status_code)
        response.exception = True
        return response


class LearnosityActionView:
    """Routes a Data API call to the view's method named by its action (`get`, `set`, ...) in `actions`; another
    action is refused with 405. Mixed into a DialectAPIView."""

    actions: tuple[str, ...] = ()

    def post(self, request, version=None):
        action = request.auth.action
        if action not in self.actions:
            raise LearnosityError(
                f"Action {action} is not supported here",
                code=CODE_ERROR,
                status_code=status.HTTP_405_METHOD_NOT_ALLOWED,
            )
        return getattr(self, f"{action}_action")(request, request.auth.data)


class LearnosityFiles(Learnosity):
    """The signed file URLs a dataset hands out (PUT to upload, GET to download): the signature is in the URL, the
    body is the file, errors are in the same `meta`/`data` envelope."""

    name = "learnosity-files"
    url_prefixes = ("/datasets/files/",)
    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = (RawBodyParser,)
