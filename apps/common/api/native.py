"""The native REST dialect (`/api/v1/`): DRF's success shapes; every error is
`{"detail": <message>, "code": <code>[, "field": <name>][, "errors": {<field>: [<message>, ...]}]}`."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.common.api.authentication import ApiKeyAuthentication
from apps.common.api.dialects import Dialect
from apps.common.api.pagination import PageNumberPagination
from apps.common.api.parsers import StrictJSONParser
from apps.common.api.schema import NativeErrorSerializer
from apps.common.exceptions import ServiceError


class Native(Dialect):
    """Tally's own REST API. Also the default of every DRF view that names no dialect (settings.REST_FRAMEWORK)."""

    name = "native"
    # The event ingest under edX's /api/v0/ is Tally's own endpoint.
    url_prefixes = ("/api/", "/api/v0/ingest/")
    authentication_classes = (ApiKeyAuthentication, SessionAuthentication)
    permission_classes = (IsAuthenticated,)
    parser_classes = (StrictJSONParser,)
    # Renderers stay DRF's settings: JSON, and the browsable API except in production.
    pagination_class = PageNumberPagination
    error_serializer = NativeErrorSerializer

    @classmethod
    def error_response(cls, exc, context):
        """Service errors, validation errors and DRF's own errors in one shape; anything else a 500."""
        if isinstance(exc, ServiceError):
            body = {"detail": exc.message, "code": exc.code}
            if exc.field:
                body["field"] = exc.field
            return Response(body, status=cls.status_of(exc))
        if isinstance(exc, DjangoValidationError):
            exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        response = drf_exception_handler(exc, context)
        if response is None:
            body = {"detail": "Internal server error.", "code": "error"}
            return Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
        if isinstance(exc, exceptions.ValidationError):
            errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
            response.data = {"detail": "Invalid input.", "code": "invalid", "errors": errors}
        else:
            codes = exc.get_codes()
            response.data = {"detail": str(exc.detail), "code": codes if isinstance(codes, str) else "error"}
        return response


exception_handler = Native.exception_handler
