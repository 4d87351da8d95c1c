"""The CKAN action API dialect: `/api/3/action/<name>` and `/api/action/<name>`, as CKAN and ckanapi expect.

Success: {"help": <absolute help_show URL>, "success": true, "result": ...}
Error:   {"help": ..., "success": false, "error": {"__type": "Validation Error", <field>: <message>, ...}} (409),
         {"__type": "Authorization Error", "message": "Access denied: ..."} (403),
         {"__type": "Not Found Error", "message": "Not found: ..."} (404).
Bad requests (unknown action, GET on a POST-only action, a body that is not a JSON object) are 400 with a bare JSON
string, as CKAN answers them. Apps register their actions with `ckan_action_register` in `AppConfig.ready`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.common.api.authentication import ApiKeyAuthentication
from apps.common.api.dialects import Dialect, DialectAPIView, ServiceUnavailable
from apps.common.api.parsers import RawBodyParser
from apps.common.exceptions import NotFoundError, PermissionDeniedError, ServiceError
from apps.common.safe_json import JSONError, json_load, json_value_check

SUPPORTED_VERSIONS = ("3",)
# The `__type` and message prefix of each service error class; any other ServiceError is a Validation Error.
ERROR_TYPES: dict[type[ServiceError], tuple[str, str]] = {
    NotFoundError: ("Not Found Error", "Not found: "),
    PermissionDeniedError: ("Authorization Error", "Access denied: "),
}


class CKANBadRequest(Exception):
    """A 400 answered with CKAN's bare JSON string `Bad request: <message>`."""


CKANActionFunction = Callable[[Request, dict[str, Any]], Any]


@dataclass(frozen=True)
class CKANAction:
    name: str
    function: CKANActionFunction
    side_effect_free: bool
    sysadmin_only: bool
    writes: bool = False  # a read-only API key is refused it


def help_show(request: Request, data_dict: dict) -> str | None:
    """Return the documentation of an action.

    :param name: the name of the action
    :type name: string
    :rtype: string
    """
    name = data_dict.get("name")
    if not isinstance(name, str) or not name:
        raise ServiceError("Missing value", field="name")
    if name not in ACTIONS:
        raise NotFoundError("Action function not found")
    return ACTIONS[name].function.__doc__


ACTIONS: dict[str, CKANAction] = {"help_show": CKANAction("help_show", help_show, True, False)}


def ckan_action_register(
    *,
    name: str,
    function: CKANActionFunction,
    side_effect_free: bool = False,
    sysadmin_only: bool = False,
    writes: bool = False,
) -> None:
    """Serve `function(request, data_dict) -> result` as the CKAN action `name`; its docstring is what help_show
    returns. Apps call this from `AppConfig.ready`.

    A side-effect-free action also answers GET (query parameters as its data); others are POST only, as plugin
    actions are in CKAN. An action that `writes` is refused to a read-only API key (a POST-only action such as
    get_group_count may still only read).
    """
    ACTIONS[name] = CKANAction(name, function, side_effect_free, sysadmin_only, writes)


def _request_data(request, action: CKANAction) -> dict:
    if request.method == "GET":
        if not action.side_effect_free:
            raise CKANBadRequest("JSON Error: Invalid request. Please use POST method for your request")
        data = {key: values if len(values) > 1 else values[0] for key, values in request.query_params.lists()}
        try:
            json_value_check(data)
        except JSONError as exc:
            raise CKANBadRequest(f"Invalid request parameters: {exc}") from exc
        return data
    raw = request.data if isinstance(request.data, bytes) else b""
    if not raw.strip():
        return {}
    try:
        data = json_load(raw)
    except JSONError as exc:
        raise CKANBadRequest(f"JSON Error: Error decoding JSON data. Error: {exc}") from exc
    if not isinstance(data, dict):
        raise CKANBadRequest(f"JSON Error: Request data JSON decoded to {data!r} but it needs to be a dictionary.")
    return data


def _access_check(request, action: CKANAction) -> None:
    if not action.sysadmin_only:
        return
    user = request.user
    if not user or not user.is_authenticated:
        raise PermissionDeniedError(f"Action {action.name} requires an authenticated user")
    if not user.is_sysadmin:
        raise PermissionDeniedError("Not authorized")


class CKANRenderer(JSONRenderer):
    """Wraps a result, or an error from CKAN.error_response, in `{"help", "success", "result"|"error"}`. A bad
    request (a bare string error) stays bare."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        response, view, request = (renderer_context.get(k) for k in ("response", "view", "request"))
        failed = response is not None and response.exception
        if view is None or request is None or (failed and isinstance(data, str)):
            return super().render(data, accepted_media_type, renderer_context)
        # Errors about an unsupported version point at the version that is.
        version = "3" if view.kwargs.get("version") is not None else None
        prefix = f"/api/{version}/action/" if version else "/api/action/"
        action_name = view.kwargs.get("action", "")
        help_url = request.build_absolute_uri(f"{prefix}help_show") + "?" + urlencode({"name": action_name})
        body = (
            {"help": help_url, "success": False, "error": data}
            if failed
            else {"help": help_url, "success": True, "result": data}
        )
        return super().render(body, accepted_media_type, renderer_context)


class CKANEnvelopeSerializer(serializers.Serializer):
    help = serializers.URLField(help_text="Absolute URL of help_show for this action.")
    success = serializers.BooleanField()
    result = serializers.JSONField(required=False, help_text="The action's result (on success).")
    error = serializers.DictField(required=False, help_text='{"__type": ..., ...} (on failure).')


class CKAN(Dialect):
    """The CKAN action API: the envelope of CKANRenderer, and errors as CKAN types them."""

    name = "ckan"
    url_prefixes = ("/api/action/", "/api/3/")
    authentication_classes = (ApiKeyAuthentication, SessionAuthentication)
    permission_classes = (AllowAny,)
    parser_classes = (RawBodyParser,)
    renderer_classes = (CKANRenderer,)
    http_method_names = ("get", "post", "options")
    error_serializer = CKANEnvelopeSerializer
    error_statuses = {**Dialect.error_statuses, ServiceError: 409}

    @classmethod
    def error_response(cls, exc, context):
        if isinstance(exc, CKANBadRequest):
            return Response(f"Bad request: {exc}", status=400)
        if isinstance(exc, exceptions.ParseError):  # a request CKAN could not read at all (its URL, its body)
            return Response(f"Bad request: {exc.detail}", status=400)
        if isinstance(exc, ServiceError):
            error_type = next((ERROR_TYPES[klass] for klass in type(exc).__mro__ if klass in ERROR_TYPES), None)
            if error_type is None:
                error = {exc.field or "message": exc.message, "__type": "Validation Error"}
            else:
                error = {"__type": error_type[0], "message": error_type[1] + exc.message}
            return Response(error, status=cls.status_of(exc))
        if isinstance(exc, exceptions.MethodNotAllowed):
            error = {"__type": "Method Not Allowed", "message": str(exc.detail)}
            return Response(error, status=405, headers={"Allow": "GET, POST, OPTIONS"})
        if isinstance(exc, exceptions.PermissionDenied):
            return Response({"__type": "Authorization Error", "message": f"Access denied: {exc.detail}"}, status=403)
        if isinstance(exc, ServiceUnavailable):
            return Response({"__type": "Service Unavailable", "message": str(exc.detail)}, status=exc.status_code)
        if isinstance(exc, exceptions.APIException):
            return Response({"__type": "Validation Error", "message": str(exc.detail)}, status=exc.status_code)
        return Response({"__type": "Internal Server Error", "message": "Internal Server Error"}, status=500)


CKAN_RESPONSES = {
    200: CKANEnvelopeSerializer,
    400: OpenApiResponse(OpenApiTypes.STR, description='A bare JSON string: "Bad request: ..."'),
    403: OpenApiResponse(CKANEnvelopeSerializer, description="Authorization Error"),
    404: OpenApiResponse(CKANEnvelopeSerializer, description="Not Found Error"),
    405: OpenApiResponse(CKANEnvelopeSerializer, description="Method not allowed"),
    409: OpenApiResponse(CKANEnvelopeSerializer, description="Validation Error"),
}


def _ckan_schema(method: str, *, versioned: bool):
    parameters = [OpenApiParameter("action", str, OpenApiParameter.PATH, description="The action name.")]
    if versioned:
        parameters.append(OpenApiParameter("version", int, OpenApiParameter.PATH, enum=[3]))
    return extend_schema(
        operation_id=f"ckan_action{'_v3' if versioned else ''}_{method}",
        tags=["ckan"],
        request={"application/json": OpenApiTypes.OBJECT},
        responses=CKAN_RESPONSES,
        parameters=parameters,
    )


@method_decorator(csrf_exempt, name="dispatch")
@extend_schema_view(get=_ckan_schema("get", versioned=False), post=_ckan_schema("post", versioned=False))
class CKANActionView(DialectAPIView):
    """Runs a registered action. Authentication never fails here: an unusable key leaves the caller anonymous, and
    the action's own access rule answers 403 in the CKAN shape."""

    dialect = CKAN

    def get(self, request, action: str, version: str | None = None):
        return self.run(request, action, version)

    def post(self, request, action: str, version: str | None = None):
        return self.run(request, action, version)

    def run(self, request, action_name: str, version: str | None):
        if version is not None and version not in SUPPORTED_VERSIONS:
            raise NotFoundError(f"API version {version} is not supported")
        action = ACTIONS.get(action_name)
        if action is None:
            raise CKANBadRequest(f"Action name not known: {action_name}")
        data_dict = _request_data(request, action)
        _access_check(request, action)
        return Response(action.function(request, data_dict))

    def request_writes(self, request):
        action = ACTIONS.get(self.kwargs.get("action", ""))
        return action is not None and action.writes


@extend_schema_view(get=_ckan_schema("get", versioned=True), post=_ckan_schema("post", versioned=True))
class CKANVersionedActionView(CKANActionView):
    """The same actions under `/api/3/action/`."""
