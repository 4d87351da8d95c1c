"""Open edX Analytics Data API v0 course endpoints, and the batch ingest endpoint."""

from collections.abc import Callable, Sequence

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.common.api.dialects import DialectAPIView, DialectGenericAPIView
from apps.common.api.edx_analytics import EdxAnalytics, EdxTokenAuthentication, edx_date_range
from apps.common.api.native import Native
from apps.common.api.parsers import RawBodyParser
from apps.common.api.permissions import Ingester
from apps.course_analytics import selectors
from apps.course_analytics.api import serializers as s
from apps.course_analytics.services.ingest import lines_of, tracking_lines_ingest

DATE_PARAMETERS = [
    OpenApiParameter("start_date", str, description="Inclusive; YYYY-mm-dd or YYYY-mm-ddTHHMMSS (UTC)."),
    OpenApiParameter("end_date", str, description="Exclusive; YYYY-mm-dd or YYYY-mm-ddTHHMMSS (UTC)."),
    OpenApiParameter("fields", str, description="CSV only: the columns to return, in this order."),
]
ACTIVITY_PARAMETER = OpenApiParameter("activity_type", str, enum=list(selectors.ACTIVITY_TYPES))


def activity_type_param(request, *names: str) -> str:
    """The requested activity type (the first of `names` present, lower-cased; `any` by default); 400 if unknown."""
    name = next((name for name in names if request.query_params.get(name)), None)
    value = request.query_params[name].lower() if name else "any"
    if value not in selectors.ACTIVITY_TYPES:
        raise exceptions.ValidationError(
            {"detail": f"{name}: {value!r} is not an activity type ({', '.join(selectors.ACTIVITY_TYPES)})."}
        )
    return value


class CourseListView(DialectGenericAPIView):
    """A list of rows for a course over [start_date, end_date); without dates, the latest computed day."""

    # Subclasses name their selector and output serializer.
    dialect = EdxAnalytics
    selector: Callable[..., Sequence | QuerySet]
    serializer_class: type[serializers.Serializer]

    def get(self, request, course_id: str, format=None):
        start, end = edx_date_range(request)
        view = type(self)

        def rows() -> list[dict] | None:
            found = view.selector(course_id=course_id, start=start, end=end)
            return [dict(row) for row in self.get_serializer(found, many=True).data] if found else None

        data = selectors.figures_cached(key=f"{view.__name__}:{course_id}:{start}:{end}", compute=rows)
        if data is None:
            raise exceptions.NotFound()
        return Response(data)


def _list_schema(*extra):
    """The OpenAPI description of a course list view: a list of its serializer (drf-spectacular cannot tell a list
    from a GenericAPIView's get)."""

    def describe(view: type[CourseListView]) -> type[CourseListView]:
        parameters = [*DATE_PARAMETERS, *extra]
        return extend_schema(
            tags=["course analytics"], responses=view.serializer_class(many=True), parameters=parameters
        )(view)

    return describe


@_list_schema()
class CourseEnrollmentView(CourseListView):
    selector = staticmethod(selectors.enrollment_list)
    serializer_class = s.EnrollmentSerializer
    csv_filename_slug = "enrollment"


@_list_schema()
class CourseEnrollmentModeView(CourseListView):
    selector = staticmethod(selectors.enrollment_mode_list)
    serializer_class = s.EnrollmentModeSerializer
    csv_filename_slug = "enrollment_mode"


@_list_schema()
class CourseEnrollmentByBirthYearView(CourseListView):
    selector = staticmethod(selectors.enrollment_birth_year_list)
    serializer_class = s.EnrollmentBirthYearSerializer
    csv_filename_slug = "enrollment-age"


@_list_schema()
class CourseEnrollmentByEducationView(CourseListView):
    selector = staticmethod(selectors.enrollment_education_list)
    serializer_class = s.EnrollmentEducationSerializer
    csv_filename_slug = "enrollment-education"


@_list_schema()
class CourseEnrollmentByGenderView(CourseListView):
    selector = staticmethod(selectors.enrollment_gender_list)
    serializer_class = s.EnrollmentGenderSerializer
    csv_filename_slug = "enrollment-gender"


@_list_schema()
class CourseEnrollmentByLocationView(CourseListView):
    selector = staticmethod(selectors.enrollment_location_list)
    serializer_class = s.EnrollmentLocationSerializer
    csv_filename_slug = "enrollment-location"


@_list_schema(ACTIVITY_PARAMETER)
class CourseActivityWeeklyView(CourseListView):
    """Weekly distinct learners per activity type; without dates, the latest computed week. activity_type is
    checked but, as in the reference, every type is returned."""

    selector = staticmethod(selectors.activity_list)
    serializer_class = s.CourseActivitySerializer
    csv_filename_slug = "engagement-activity"

    def get(self, request, course_id: str, format=None):
        activity_type_param(request, "activity_type")
        return super().get(request, course_id, format)


@extend_schema(
    tags=["course analytics"],
    parameters=[ACTIVITY_PARAMETER, OpenApiParameter("label", str, description="Legacy name of activity_type.")],
    deprecated=True,
)
class CourseActivityMostRecentWeekView(DialectGenericAPIView):
    """The latest computed week's count of one activity type (deprecated upstream in favour of activity/)."""

    dialect = EdxAnalytics
    serializer_class = s.RecentActivitySerializer

    def get(self, request, course_id: str, format=None):
        row = selectors.recent_activity_get(
            course_id=course_id, activity_type=activity_type_param(request, "label", "activity_type")
        )
        if row is None:
            raise exceptions.NotFound()
        return Response(self.get_serializer(row).data)


@_list_schema()
class VideosListView(CourseListView):
    """Videos of a course with their viewers at the start and near the end. Dates are checked but, as in the
    reference, not applied."""

    selector = staticmethod(selectors.video_list)
    serializer_class = s.VideoSerializer


@extend_schema(
    tags=["course analytics"],
    request={"application/json": {"type": "array", "items": {"type": "object"}}},
    responses=s.IngestReportSerializer,
)
class EventIngestView(DialectAPIView):
    """Ingest tracking-log events: a JSON array of events, or NDJSON (one event per line, any content type), at
    most TALLY_INGEST_MAX_BYTES. For staff and for API keys with the ingest scope.

    Idempotent: events already stored are not added again. Malformed events are counted and reported by index.
    """

    dialect = Native
    authentication_classes = (EdxTokenAuthentication,)
    permission_classes = (IsAuthenticated, Ingester)
    parser_classes = (RawBodyParser,)

    def post(self, request):
        body = request.data if isinstance(request.data, bytes) else b""  # DRF gives {} for an empty body
        report = tracking_lines_ingest(lines=lines_of(body), source="request")
        return Response(s.IngestReportSerializer(report).data)
