from datetime import UTC, date, datetime

import pytest

from apps.common.testing.factories import UserFactory, api_key_for
from apps.course_analytics.models import (
    ActivityWeekly,
    EnrollmentBirthYearDaily,
    EnrollmentDaily,
    EnrollmentEducationDaily,
    EnrollmentGenderDaily,
    EnrollmentLocationDaily,
    EnrollmentModeDaily,
    VideoSummary,
)

COURSE = "course-v1:edX+DemoX+Demo_2014"
CREATED = datetime(2014, 1, 2, 3, 4, 5, tzinfo=UTC)


def _week(start: str, end: str) -> dict:
    return {
        "interval_start": datetime.fromisoformat(start + "T00:00:00+00:00"),
        "interval_end": datetime.fromisoformat(end + "T00:00:00+00:00"),
    }


@pytest.fixture
def reference_rows(db):
    """The seed data of the reference notes' contract cases, written straight into the rollup tables."""
    days = [date(2013, 12, 31), date(2014, 1, 1)]
    for day in days:
        EnrollmentDaily.objects.create(course_id=COURSE, date=day, count=100, cumulative_count=120, created=CREATED)
        for mode, count, cumulative in [
            ("audit", 10, 12),
            ("honor", 20, 25),
            ("verified", 5, 6),
            ("no-id-professional", 2, 3),
            ("professional", 1, 1),
        ]:
            EnrollmentModeDaily.objects.create(
                course_id=COURSE, date=day, mode=mode, count=count, cumulative_count=cumulative, created=CREATED
            )
    latest = days[-1]
    for gender, count in [("m", 40), ("f", 30), (None, 5), ("", 2)]:
        EnrollmentGenderDaily.objects.create(
            course_id=COURSE, date=latest, gender=gender, count=count, cumulative_count=count, created=CREATED
        )
    EnrollmentBirthYearDaily.objects.create(
        course_id=COURSE, date=latest, birth_year=1990, count=7, cumulative_count=7, created=CREATED
    )
    for level, count in [("bachelors", 9), (None, 3)]:
        EnrollmentEducationDaily.objects.create(
            course_id=COURSE, date=latest, education_level=level, count=count, cumulative_count=count, created=CREATED
        )
    for code, count in [("US", 10), ("CA", 4), ("UNKNOWN", 3), ("", 1), ("A1", 2), ("EU", 1)]:
        EnrollmentLocationDaily.objects.create(
            course_id=COURSE, date=latest, country_code=code, count=count, cumulative_count=count, created=CREATED
        )
    for week, counts in [
        (_week("2014-01-06", "2014-01-13"), {"any": 50, "attempted_problem": 20, "played_video": 30}),
        (_week("2014-01-13", "2014-01-20"), {"any": 51, "attempted_problem": 20, "played_video": 30}),
    ]:
        for activity_type, count in counts.items():
            ActivityWeekly.objects.create(
                course_id=COURSE, activity_type=activity_type, count=count, created=CREATED, **week
            )
    VideoSummary.objects.create(
        pipeline_video_id=f"{COURSE}|block-v1-video",
        course_id=COURSE,
        encoded_module_id="block-v1-video",
        duration=120,
        segment_length=5,
        users_at_start=9,
        users_at_end=4,
        created=CREATED,
    )


@pytest.fixture
def token(db):
    """The key of a dashboard service: the analytics scope, as the reference serves these to a trusted service."""
    return api_key_for(UserFactory(username="dashboard"), analytics=True)
