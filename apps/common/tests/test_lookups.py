from datetime import date

import polars as pl
import pytest
from django.db import connection

from apps.common.frames import queryset_copy_frame
from apps.course_analytics.models import LearnerEnrollmentState


@pytest.mark.django_db
def test_any_of_selects_what_in_selects_on_either_database():
    for lms_user_id in (1, 2, 3, 2**40):
        LearnerEnrollmentState.objects.create(
            course_id="c", lms_user_id=lms_user_id, since=date(2026, 3, 2), enrolled=True
        )
    wanted = [3, 2**40, 99, 3, None]  # beyond 32 bits, absent, repeated and null ids included

    def ids(queryset) -> list[int]:
        return sorted(queryset.values_list("lms_user_id", flat=True))

    rows = LearnerEnrollmentState.objects
    assert ids(rows.filter(lms_user_id__any_of=wanted)) == ids(rows.filter(lms_user_id__in=wanted)) == [3, 2**40]
    assert ids(rows.filter(lms_user_id__any_of=[])) == ids(rows.filter(lms_user_id__any_of=[None])) == []
    assert ids(rows.exclude(lms_user_id__any_of=wanted)) == [1, 2]
    copied = queryset_copy_frame(rows.filter(lms_user_id__any_of=wanted), {"lms_user_id": pl.Int64})
    assert sorted(copied["lms_user_id"]) == [3, 2**40]


def test_any_of_binds_the_ids_as_one_array_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite binds each id, as __in does")
    sql, params = LearnerEnrollmentState.objects.filter(lms_user_id__any_of=[1, 2, 3]).query.sql_with_params()
    assert "IN (SELECT unnest(%s::bigint[]))" in sql
    assert params == ([1, 2, 3],)
