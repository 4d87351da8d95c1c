"""The Open edX Analytics Data API v0 dialect: token auth, JSON and CSV, dates, and errors (throttling is every
dialect's: apps.common.api.throttling).

Bodies are bare JSON (lists, or one object) as the reference serves them; errors are `{"detail": ...}`.
CSV: columns are the sorted union of the (dot-flattened) keys, or the `fields` query parameter's order; a
download filename is set only when the request's Accept is exactly `text/csv`, as the reference does.
"""

from datetime import UTC, datetime

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework_csv.renderers import CSVRenderer

from apps.common.api.authentication import ApiKeyAuthentication, raw_key_from_headers
from apps.common.api.dialects import Dialect
from apps.common.api.permissions import AnalyticsReader
from apps.common.api.renderers import FastJSONRenderer
from apps.common.exceptions import ServiceError

# Output serializers format their datetimes with EDX_DATETIME_FORMAT (`created`, week bounds) and dates as ISO.
EDX_DATETIME_FORMAT = "%Y-%m-%dT%H%M%S"
COURSE_ID_PATTERN = r"(?P<course_id>[^/+]+[/+][^/+]+[/+][^/]+)"


def parse_edx_date(name: str, raw: str | None) -> datetime | None:
    """`YYYY-mm-ddTHHMMSS` or `YYYY-mm-dd`, as UTC; None when absent or empty; 400 naming the parameter else."""
    if not raw:
        return None
    for pattern in (EDX_DATETIME_FORMAT, "%Y-%m-%d"):
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


class EdxCsvRenderer(CSVRenderer):
    """djangorestframework-csv, as the reference uses, with the reference's column choice: the sorted union of the
    flattened keys, or the `fields` query parameter's order (names that no row has are left out). An error body
    renders as nothing."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or (isinstance(data, dict) and set(data) == {"detail"}):
            return ""
        renderer_context = renderer_context or {}
        rows = list(self.flatten_data(data if isinstance(data, list) else [data]))
        header = sorted({key for row in rows for key in row})
        request = renderer_context.get("request")
        requested = request.query_params.get("fields") if request is not None else None
        if requested:
            header = [name for name in (part.strip() for part in requested.split(",")) if name in header]
        return super().render(rows, accepted_media_type, {**renderer_context, "header": header})


def csv_filename(course_id: str, slug: str | None) -> str:
    try:
        key = CourseKey.from_string(course_id)
        stem = f"{key.org}-{key.course}-{key.run}"
    except InvalidKeyError:
        stem = "".join(char if char.isalnum() or char in "-_." else "-" for char in course_id)
    return f"{stem}--{slug}.csv"


class EdxErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class EdxAnalytics(Dialect):
    """The Open edX Analytics Data API v0: GET/HEAD/OPTIONS only, token auth, JSON or CSV, no pagination. A view may
    set `csv_filename_slug`, the end of the download filename."""

    name = "edx_analytics"
    url_prefixes = ("/api/v0/",)
    authentication_classes = (EdxTokenAuthentication,)
    # The reference serves these to a trusted dashboard service: staff, or a key with the analytics scope.
    permission_classes = (IsAuthenticated, AnalyticsReader)
    renderer_classes = (FastJSONRenderer, EdxCsvRenderer)
    pagination_class = None
    filter_backends = ()
    http_method_names = ("get", "head", "options")
    error_serializer = EdxErrorSerializer

    @classmethod
    def error_response(cls, exc, context):
        """DRF's `{"detail": ...}` errors; a 400 carries one sentence naming the parameter."""
        if isinstance(exc, ServiceError):
            return Response({"detail": exc.message}, status=cls.status_of(exc))
        response = drf_exception_handler(exc, context)
        if response is None:
            return Response({"detail": "Internal server error."}, status=500)
        collapsible = isinstance(response.data, dict) and "detail" in response.data
        if isinstance(exc, exceptions.ValidationError) and collapsible:
            detail = response.data["detail"]
            response.data = {"detail": detail[0] if isinstance(detail, list) else detail}
        return response

    @classmethod
    def finalize_response(cls, view, request, response):
        if request.headers.get("Accept") == "text/csv":
            filename = csv_filename(view.kwargs.get("course_id", ""), getattr(view, "csv_filename_slug", None))
            response["Content-Disposition"] = f"attachment; filename={filename}"
        return response


def edx_date_range(request) -> tuple[datetime | None, datetime | None]:
    """The request's [start_date, end_date) as UTC datetimes; 400 naming a parameter that is not a date."""
    params = request.query_params
    return parse_edx_date("start_date", params.get("start_date")), parse_edx_date("end_date", params.get("end_date"))
