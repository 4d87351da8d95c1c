"""The one way an API dialect hooks into a view.

A dialect (Sunbird, CKAN, Open edX analytics, Newspark, Learnosity, the native API) is a `Dialect` subclass in its
own module of `apps/common/api/`. It owns everything about the wire: how bodies are parsed, who the caller is, the
renderers and envelope, pagination, throttling, and how errors look. A view only names it:

    class GroupReadView(DialectAPIView):
        dialect = Sunbird

        def get(self, request, group_id):
            return Response(GroupReadSerializer(selectors.group_get(...)).data)

Services raise `apps.common.exceptions` errors, which know nothing of HTTP; `Dialect.status_of` maps each error
class to a status, and the dialect's `error_response` renders it in its shape. DRF's own errors (authentication,
parsing, validation, throttling, method) reach `error_response` as they are, so that the dialect decides their shape
too. Anything else is logged and answered as the dialect's 500.

Errors that happen before any view runs (a URL that matches no route, a body refused by the size limit) are answered
by `route_error_response` in the shape of the dialect that owns the URL: the resolved view's dialect, else the
dialect whose `url_prefixes` holds the longest prefix of the path.
"""

import logging
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from rest_framework import exceptions, generics, mixins, viewsets
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.api.parsers import url_text_check
from apps.common.api.permissions import ApiKeyScope
from apps.common.api.throttling import ApiKeyRateThrottle
from apps.common.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ServiceError

logger = logging.getLogger(__name__)

# What a dialect sets on every view that names it, unless the view sets it itself (or the dialect does not set it).
VIEW_ATTRIBUTES = (
    "authentication_classes",
    "permission_classes",
    "parser_classes",
    "renderer_classes",
    "throttle_classes",
    "pagination_class",
    "filter_backends",
    "http_method_names",
    "error_serializer",
)


class ServiceUnavailable(exceptions.APIException):
    """The database cannot be reached for now (a restart, a failover): 503, in the dialect's shape."""

    status_code = 503
    default_detail = "The service is briefly unavailable (its database cannot be reached); try again shortly."
    default_code = "service_unavailable"
    retry_after_seconds = 5


class Dialect:
    """Base of every dialect. Subclasses set the class attributes DRF reads and implement `error_response`."""

    name: ClassVar[str] = "dialect"
    # Path prefixes this dialect owns: an error before any view runs under one of them (the longest wins) is
    # answered in this dialect's shape.
    url_prefixes: ClassVar[tuple[str, ...]] = ()
    authentication_classes: ClassVar[tuple] = ()
    permission_classes: ClassVar[tuple] = (IsAuthenticated,)
    throttle_classes: ClassVar[tuple] = (ApiKeyRateThrottle,)
    pagination_class: ClassVar[Any] = None
    # Describes the error body to drf-spectacular (apps.common.api.schema), which does not read handlers.
    error_serializer: ClassVar[Any] = None

    # HTTP status per domain error class; the most specific class an error is an instance of wins.
    error_statuses: ClassVar[dict[type[ServiceError], int]] = {
        NotFoundError: 404,
        PermissionDeniedError: 403,
        ConflictError: 409,
        ServiceError: 400,
    }

    @classmethod
    def status_of(cls, error: ServiceError) -> int:
        for klass in type(error).__mro__:
            if klass in cls.error_statuses:
                return cls.error_statuses[klass]
        return 400

    @classmethod
    def error_response(cls, exc: Exception, context: dict) -> Response | None:
        """The response for `exc` in this dialect's shape; None leaves it to Django (a logged 500)."""
        raise NotImplementedError

    @classmethod
    def exception_handler(cls, exc: Exception, context: dict) -> Response | None:
        # Django's own refusals become DRF's, as DRF's default handler makes them, before the dialect shapes them.
        if isinstance(exc, Http404):
            exc = exceptions.NotFound()
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied()
        elif isinstance(exc, OperationalError | InterfaceError):
            # The database restarting, unreachable or refusing connections: the request can be made again.
            logger.warning("database unavailable to the %s API: %s", cls.name, exc)
            exc = ServiceUnavailable()
        response = cls.error_response(exc, context)
        if isinstance(exc, ServiceUnavailable) and response is not None:
            response["Retry-After"] = str(ServiceUnavailable.retry_after_seconds)
        elif response is None or response.status_code >= 500:
            logger.error("unhandled %s API error", cls.name, exc_info=exc)
        return response

    @classmethod
    def finalize_response(cls, view: APIView, request: Request, response: Response) -> Response:
        """A last look at every response of the dialect (headers such as a download filename)."""
        return response


class DialectViewMixin:
    """Makes a DRF view speak the dialect it names in `dialect`."""

    dialect: ClassVar[type[Dialect]]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        dialect = cls.__dict__.get("dialect")
        if dialect is None:
            return
        for name in VIEW_ATTRIBUTES:
            if name not in cls.__dict__ and hasattr(dialect, name):
                setattr(cls, name, getattr(dialect, name))

    def get_permissions(self):
        """The view's own permissions, then the scopes of the request's API key, which every dialect enforces."""
        return [*super().get_permissions(), ApiKeyScope()]

    def request_writes(self, request: Request) -> bool:
        """Whether `request` writes (a read-only key is refused it); a view that reads through POST says no."""
        return request.method not in SAFE_METHODS

    def get_exception_handler(self):
        return self.dialect.exception_handler

    def initial(self, request, *args, **kwargs):
        # A method the view does not serve is a 405 whoever asks, before authentication could make it a 401.
        if request.method.upper() not in self._allowed_methods():
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)
        url_text_check(values=[*kwargs.values(), *request.query_params.values()])

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        return self.dialect.finalize_response(self, request, response)


class DialectAPIView(DialectViewMixin, APIView):
    """A view of one operation."""


class DialectGenericAPIView(DialectViewMixin, generics.GenericAPIView):
    """A view over a queryset (list or retrieve)."""


class DialectViewSet(DialectViewMixin, viewsets.GenericViewSet):
    """A viewset; add DRF's mixins for the actions it serves."""


class DialectModelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    DialectViewSet,
):
    """A viewset of every action over a model: list, retrieve, create, update and destroy."""


def dialect_classes(base: type[Dialect] = Dialect) -> list[type[Dialect]]:
    """Every dialect (every subclass of `base`, however deep)."""
    return [klass for sub in base.__subclasses__() for klass in (sub, *dialect_classes(sub))]


def dialect_of_prefix(path: str) -> type[Dialect] | None:
    """The dialect that declares the longest prefix of `path`; None when no dialect owns it."""
    owners = [(prefix, dialect) for dialect in dialect_classes() for prefix in dialect.url_prefixes]
    matches = [(len(prefix), dialect) for prefix, dialect in owners if path.startswith(prefix)]
    return max(matches, key=lambda match: match[0])[1] if matches else None


# One view class per dialect, made on its first route error.
_route_error_views: dict[type[Dialect], type[APIView]] = {}


def _route_error_view_class(dialect: type[Dialect]) -> type[APIView]:
    """A view of no operation that speaks `dialect`, to answer errors under its prefixes that no view owns."""
    if dialect not in _route_error_views:
        _route_error_views[dialect] = type(f"{dialect.__name__}RouteErrorView", (DialectAPIView,), {"dialect": dialect})
    return _route_error_views[dialect]


def _route_view(request: HttpRequest) -> APIView | None:
    """An instance of the dialect view that owns the request's path (so that view attributes such as
    `sunbird_api_id` shape its errors), or of the prefix owner's error view; None outside every dialect."""
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
        view_func: Any = match.func
        args, kwargs = match.args, match.kwargs
    except Resolver404:
        view_func, args, kwargs = None, (), {}
    # DRF's as_view() keeps the view class and its keyword arguments on the function it returns.
    view_class = getattr(view_func, "cls", None)
    if view_class is not None and issubclass(view_class, DialectViewMixin):
        view = view_class(**view_func.initkwargs)
        if hasattr(view_func, "actions"):  # a viewset maps methods to its actions
            view.action_map = view_func.actions
    else:
        dialect = dialect_of_prefix(request.path_info)
        if dialect is None:
            return None
        view = _route_error_view_class(dialect)()
    view.args, view.kwargs = args, kwargs
    return view


def route_error_response(request: HttpRequest, exc: exceptions.APIException) -> HttpResponse | None:
    """`exc`, raised before any view ran, as the response of the dialect that owns the request's path, rendered
    through that dialect's handler, renderers and last look; None when no dialect owns the path."""
    view = _route_view(request)
    if view is None:
        return None
    view.headers = {}
    drf_request = view.initialize_request(request)
    view.request = drf_request
    view.format_kwarg = None
    response = view.finalize_response(drf_request, view.handle_exception(exc))
    return response.render()
