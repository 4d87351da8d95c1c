from datetime import date

import polars as pl
import pytest

from apps.common.frames import queryset_copy_frame, queryset_frame
from apps.common.models import JobRun
from apps.course_analytics.models import LearnerEnrollmentState, LearnerProfile

MOMENT = pl.Datetime("us", "UTC")


@pytest.mark.django_db
def test_a_copied_frame_holds_the_very_values_of_a_fetched_one():
    LearnerEnrollmentState.objects.create(course_id="c, \"1\"", lms_user_id=7, since=date(2026, 3, 2), enrolled=True,
                                          mode="verified")  # fmt: skip
    LearnerEnrollmentState.objects.create(
        course_id="c2", lms_user_id=8, since=date(2026, 3, 3), enrolled=False, mode=""
    )
    LearnerProfile.objects.create(lms_user_id=7, year_of_birth=None, gender="", country="NO")
    JobRun.objects.create(kind="k", key="x")
    schemas = {
        LearnerEnrollmentState.objects.order_by("lms_user_id"): {
            "course_id": pl.String, "lms_user_id": pl.Int64, "since": pl.Date, "enrolled": pl.Boolean,
            "mode": pl.String,
        },
        LearnerProfile.objects.all(): {"lms_user_id": pl.Int64, "year_of_birth": pl.Int64, "gender": pl.String},
        JobRun.objects.all(): {"kind": pl.String, "started": MOMENT, "finished": MOMENT},
    }  # fmt: skip

    for queryset, schema in schemas.items():
        copied = queryset_copy_frame(queryset, schema)
        assert copied.schema == pl.Schema(schema)
        assert copied.equals(queryset_frame(queryset, schema))
        assert copied.height == queryset.count()
