"""The v0 course payloads: field names and date formats as the reference serves them, and the OpenAPI description
of the same (so that the two cannot drift). Selectors return rows; these shape them."""

from datetime import UTC

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.common.api.edx_analytics import EDX_DATETIME_FORMAT


@extend_schema_field(OpenApiTypes.STR)
class EdxDateTimeField(serializers.DateTimeField):
    """`YYYY-mm-ddTHHMMSS` in UTC."""

    def __init__(self, **kwargs):
        super().__init__(format=EDX_DATETIME_FORMAT, default_timezone=UTC, **kwargs)


class EnrollmentSerializer(serializers.Serializer):
    course_id = serializers.CharField()
    date = serializers.DateField()
    count = serializers.IntegerField(help_text="Learners enrolled at the end of the day (UTC).")
    created = EdxDateTimeField(help_text="When the figures were computed, YYYY-mm-ddTHHMMSS (UTC).")


class EnrollmentModeSerializer(EnrollmentSerializer):
    cumulative_count = serializers.IntegerField(help_text="Learners who ever enrolled, up to that day.")
    audit = serializers.IntegerField()
    credit = serializers.IntegerField()
    honor = serializers.IntegerField()
    professional = serializers.IntegerField(help_text="Includes no-id-professional.")
    verified = serializers.IntegerField()
    masters = serializers.IntegerField()


class EnrollmentBirthYearSerializer(EnrollmentSerializer):
    birth_year = serializers.IntegerField(allow_null=True)


class EnrollmentEducationSerializer(EnrollmentSerializer):
    education_level = serializers.CharField(allow_null=True)


class EnrollmentGenderSerializer(serializers.Serializer):
    course_id = serializers.CharField()
    date = serializers.DateField()
    female = serializers.IntegerField()
    male = serializers.IntegerField()
    other = serializers.IntegerField()
    unknown = serializers.IntegerField()
    created = EdxDateTimeField()


class CountrySerializer(serializers.Serializer):
    alpha2 = serializers.CharField(allow_null=True)
    alpha3 = serializers.CharField(allow_null=True)
    name = serializers.CharField()


class EnrollmentLocationSerializer(EnrollmentSerializer):
    country = CountrySerializer()


class CourseActivitySerializer(serializers.Serializer):
    interval_start = EdxDateTimeField(help_text="Monday 00:00 UTC, YYYY-mm-ddTHHMMSS.")
    interval_end = EdxDateTimeField(help_text="The next Monday (excluded).")
    course_id = serializers.CharField()
    any = serializers.IntegerField(required=False)
    attempted_problem = serializers.IntegerField(required=False)
    played_video = serializers.IntegerField(required=False)
    posted_forum = serializers.IntegerField(required=False)
    created = EdxDateTimeField()


class RecentActivitySerializer(serializers.Serializer):
    interval_start = serializers.DateTimeField()
    interval_end = serializers.DateTimeField()
    activity_type = serializers.CharField()
    count = serializers.IntegerField()
    course_id = serializers.CharField()


class VideoSerializer(serializers.Serializer):
    pipeline_video_id = serializers.CharField()
    encoded_module_id = serializers.CharField()
    duration = serializers.IntegerField()
    segment_length = serializers.IntegerField()
    users_at_start = serializers.IntegerField()
    users_at_end = serializers.IntegerField()
    created = EdxDateTimeField()


class IngestReportSerializer(serializers.Serializer):
    lines = serializers.IntegerField()
    added = serializers.IntegerField()
    skipped = serializers.IntegerField()
    malformed = serializers.IntegerField()
    problems = serializers.ListField(child=serializers.CharField())
