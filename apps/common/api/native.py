"""The native REST dialect (`/api/v1/`): DRF's own shapes, `{"detail": ..., "code": ...}` for errors."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.common.exceptions import ServiceError

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    """DRF's handler, plus service errors and model validation errors as 4xx; anything else is logged as a 500."""
    if isinstance(exc, ServiceError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled API error", exc_info=exc)
        return Response(
            {"detail": "Internal server error.", "code": "error"}, status=status.HTTP_500_INTERNAL_SERVER_ERROR
        )
    return response
