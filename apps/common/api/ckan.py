"""The CKAN action API dialect: `/api/3/action/<name>` and `/api/action/<name>`, as CKAN and ckanapi expect.

Success: {"help": <absolute help_show URL>, "success": true, "result": ...}
Error:   {"help": ..., "success": false, "error": {"__type": "Validation Error", <field>: <message>, ...}} (409),
         {"__type": "Authorization Error", "message": "Access denied: ..."} (403),
         {"__type": "Not Found Error", "message": "Not found: ..."} (404).
Bad requests (unknown action, GET on a POST-only action, a body that is not a JSON object) are 400 with a bare JSON
string, as CKAN answers them. Apps register their actions with `ckan_action`.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.api.authentication import ApiKeyAuthentication
from apps.common.api.parsers import RawBodyParser
from apps.common.exceptions import NotFoundError, PermissionDeniedError, ServiceError
from apps.common.safe_json import JSONError, json_load, json_value_check

logger = logging.getLogger(__name__)


class CKANValidationError(Exception):
    """A CKAN Validation Error: `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


class CKANBadRequest(Exception):
    """A 400 answered with CKAN's bare JSON string `Bad request: <message>`."""


@dataclass(frozen=True)
class CKANAction:
    name: str
    function: Callable
    side_effect_free: bool
    sysadmin_only: bool


ACTIONS: dict[str, CKANAction] = {}
SUPPORTED_VERSIONS = ("3",)


def ckan_action(name: str, *, side_effect_free: bool = False, sysadmin_only: bool = False):
    """Register `function(request, data_dict) -> result` as a CKAN action. Its docstring is what help_show returns.

    A side-effect-free action also answers GET (query parameters as its data); others are POST only, as plugin
    actions are in CKAN.
    """

    def register(function):
        ACTIONS[name] = CKANAction(name, function, side_effect_free, sysadmin_only)
        return function

    return register


@ckan_action("help_show", side_effect_free=True)
def help_show(request, data_dict: dict):
    """Return the documentation of an action.

    :param name: the name of the action
    :type name: string
    :rtype: string
    """
    name = data_dict.get("name")
    if not isinstance(name, str) or not name:
        raise CKANValidationError({"name": "Missing value"})
    if name not in ACTIONS:
        raise NotFoundError("Action function not found")
    return ACTIONS[name].function.__doc__


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


def _envelope(request, action_name: str, version: str | None, **body) -> dict:
    prefix = f"/api/{version}/action/" if version else "/api/action/"
    help_url = request.build_absolute_uri(f"{prefix}help_show") + "?" + urlencode({"name": action_name})
    return {"help": help_url, **body}


def _error(request, action_name, version, status: int, error: dict) -> Response:
    return Response(_envelope(request, action_name, version, success=False, error=error), status=status)


class CKANEnvelopeSerializer(serializers.Serializer):
    help = serializers.URLField(help_text="Absolute URL of help_show for this action.")
    success = serializers.BooleanField()
    result = serializers.JSONField(required=False, help_text="The action's result (on success).")
    error = serializers.DictField(required=False, help_text='{"__type": ..., ...} (on failure).')


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
class CKANActionView(APIView):
    """Runs a registered action. Authentication never fails here: an unusable key leaves the caller anonymous, and
    the action's own access rule answers 403 in the CKAN shape."""

    authentication_classes = (ApiKeyAuthentication, SessionAuthentication)
    permission_classes = (AllowAny,)
    parser_classes = (RawBodyParser,)
    renderer_classes = (JSONRenderer,)
    http_method_names = ("get", "post", "options")

    def get(self, request, action: str, version: str | None = None):
        return self.run(request, action, version)

    def post(self, request, action: str, version: str | None = None):
        return self.run(request, action, version)

    def run(self, request, action_name: str, version: str | None):
        if version is not None and version not in SUPPORTED_VERSIONS:
            error = {"__type": "Not Found Error", "message": f"Not found: API version {version} is not supported"}
            return _error(request, action_name, "3", 404, error)
        action = ACTIONS.get(action_name)
        if action is None:
            return JsonResponse(f"Bad request: Action name not known: {action_name}", status=400, safe=False)
        try:
            data_dict = _request_data(request, action)
            self.check_access(request, action)
            result = action.function(request, data_dict)
        except CKANBadRequest as exc:
            return JsonResponse(f"Bad request: {exc}", status=400, safe=False)
        except CKANValidationError as exc:
            return _error(request, action_name, version, 409, {**exc.errors, "__type": "Validation Error"})
        except PermissionDeniedError as exc:
            error = {"__type": "Authorization Error", "message": f"Access denied: {exc.message}"}
            return _error(request, action_name, version, 403, error)
        except NotFoundError as exc:
            return _error(
                request,
                action_name,
                version,
                404,
                {"__type": "Not Found Error", "message": f"Not found: {exc.message}"},
            )
        except ServiceError as exc:
            return _error(
                request, action_name, version, 409, {exc.field or "message": exc.message, "__type": "Validation Error"}
            )
        return Response(_envelope(request, action_name, version, success=True, result=result))

    @staticmethod
    def check_access(request, action: CKANAction) -> None:
        if not action.sysadmin_only:
            return
        user = request.user
        if not user or not user.is_authenticated:
            raise PermissionDeniedError(f"Action {action.name} requires an authenticated user")
        if not user.is_sysadmin:
            raise PermissionDeniedError("Not authorized")

    def handle_exception(self, exc):
        """DRF's own errors (method, media type, throttling) in the CKAN error shape; others are logged 500s."""
        action_name, version = self.kwargs.get("action", ""), self.kwargs.get("version")
        if isinstance(exc, exceptions.MethodNotAllowed):
            error = {"__type": "Method Not Allowed", "message": str(exc.detail)}
            response = _error(self.request, action_name, version, 405, error)
            response["Allow"] = "GET, POST, OPTIONS"
            return response
        if isinstance(exc, exceptions.APIException):
            error = {"__type": "Validation Error", "message": str(exc.detail)}
            return _error(self.request, action_name, version, exc.status_code, error)
        logger.exception("unhandled CKAN action error", exc_info=exc)
        error = {"__type": "Internal Server Error", "message": "Internal Server Error"}
        return _error(self.request, action_name, version, 500, error)


@extend_schema_view(get=_ckan_schema("get", versioned=True), post=_ckan_schema("post", versioned=True))
class CKANVersionedActionView(CKANActionView):
    """The same actions under `/api/3/action/`."""
