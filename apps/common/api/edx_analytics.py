"""The Open edX Analytics Data API v0 dialect: token auth, JSON and CSV, dates, and errors (throttling is every
dialect's: apps.common.api.throttling).

Bodies are bare JSON (lists, or one object) as the reference serves them; errors are `{"detail": ...}`.
CSV: columns are the sorted union of the (dot-flattened) keys, or the `fields` query parameter's order; a
download filename is set only when the request's Accept is exactly `text/csv`, as the reference does.
"""

import csv
import io
import logging
from datetime import UTC, datetime

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey
from rest_framework import exceptions, generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.views import exception_handler as drf_exception_handler

from apps.common.api.authentication import ApiKeyAuthentication, raw_key_from_headers

logger = logging.getLogger(__name__)

DATETIME_FORMAT = "%Y-%m-%dT%H%M%S"
DATE_FORMAT = "%Y-%m-%d"
COURSE_ID_PATTERN = r"(?P<course_id>[^/+]+[/+][^/+]+[/+][^/]+)"


def edx_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(DATETIME_FORMAT)


def parse_edx_date(name: str, raw: str | None) -> datetime | None:
    """`YYYY-mm-ddTHHMMSS` or `YYYY-mm-dd`, as UTC; None when absent or empty; 400 naming the parameter else."""
    if not raw:
        return None
    for pattern in (DATETIME_FORMAT, DATE_FORMAT):
        try:
            return datetime.strptime(raw, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise exceptions.ValidationError(
        {"detail": f"{name}: {raw!r} is not a date; use YYYY-mm-dd or YYYY-mm-ddTHHMMSS (UTC)."}
    )


class EdxTokenAuthentication(ApiKeyAuthentication):
    """Tally API keys as the reference's DRF tokens: a key that is sent but unusable is 401 "Invalid token."."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None and raw_key_from_headers(request.headers):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return result


class EdxTokenScheme(OpenApiAuthenticationExtension):
    target_class = EdxTokenAuthentication
    name = "EdxToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "`Token <api key>`"}


def _flatten(row: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = ", ".join(map(str, value))
        else:
            flat[name] = value
    return flat


class EdxCsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or (isinstance(data, dict) and set(data) == {"detail"}):
            return ""
        rows = [_flatten(row) for row in (data if isinstance(data, list) else [data])]
        request = (renderer_context or {}).get("request")
        requested = request.query_params.get("fields") if request is not None else None
        columns = sorted({key for row in rows for key in row})
        if requested:
            columns = [name for name in (part.strip() for part in requested.split(",")) if name in columns]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()


def csv_filename(course_id: str, slug: str | None) -> str:
    try:
        key = CourseKey.from_string(course_id)
        stem = f"{key.org}-{key.course}-{key.run}"
    except InvalidKeyError:
        stem = "".join(char if char.isalnum() or char in "-_." else "-" for char in course_id)
    return f"{stem}--{slug}.csv"


def edx_exception_handler(exc, context):
    """DRF's `{"detail": ...}` errors; a 400 carries one sentence naming the parameter; other failures are logged."""
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled analytics API error", exc_info=exc)
        return None
    if isinstance(exc, exceptions.ValidationError) and isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        response.data = {"detail": detail[0] if isinstance(detail, list) else detail}
    return response


class EdxErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class EdxCourseView(generics.GenericAPIView):
    """Base of the v0 course endpoints: GET/HEAD/OPTIONS only, token auth, JSON or CSV, no pagination."""

    authentication_classes = (EdxTokenAuthentication,)
    permission_classes = (IsAuthenticated,)
    renderer_classes = (JSONRenderer, EdxCsvRenderer)
    pagination_class = None
    filter_backends = ()
    http_method_names = ("get", "head", "options")
    error_serializer = EdxErrorSerializer
    csv_filename_slug: str | None = None

    def get_exception_handler(self):
        return edx_exception_handler

    def date_range(self) -> tuple[datetime | None, datetime | None]:
        params = self.request.query_params
        return parse_edx_date("start_date", params.get("start_date")), parse_edx_date(
            "end_date", params.get("end_date")
        )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.headers.get("Accept") == "text/csv":
            filename = csv_filename(self.kwargs.get("course_id", ""), self.csv_filename_slug)
            response["Content-Disposition"] = f"attachment; filename={filename}"
        return response
