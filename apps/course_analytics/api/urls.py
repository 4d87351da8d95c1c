from django.urls import path, re_path
from rest_framework.urlpatterns import format_suffix_patterns

from apps.common.api.edx_analytics import COURSE_ID_PATTERN
from apps.course_analytics.api import views

app_name = "course_analytics-api"

COURSE_ENDPOINTS = {
    "activity": views.CourseActivityWeeklyView,
    "recent_activity": views.CourseActivityMostRecentWeekView,
    "enrollment": views.CourseEnrollmentView,
    "enrollment/mode": views.CourseEnrollmentModeView,
    "enrollment/birth_year": views.CourseEnrollmentByBirthYearView,
    "enrollment/education": views.CourseEnrollmentByEducationView,
    "enrollment/gender": views.CourseEnrollmentByGenderView,
    "enrollment/location": views.CourseEnrollmentByLocationView,
    "videos": views.VideosListView,
}

course_patterns = [
    re_path(rf"^api/v0/courses/{COURSE_ID_PATTERN}/{endpoint}/$", view.as_view(), name=endpoint.replace("/", "_"))
    for endpoint, view in COURSE_ENDPOINTS.items()
]
urlpatterns = [
    *format_suffix_patterns(course_patterns, allowed=["csv"]),
    path("api/v0/ingest/events", views.EventIngestView.as_view(), name="ingest-events"),
]
