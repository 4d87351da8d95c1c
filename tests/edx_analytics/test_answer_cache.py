"""v0 answers from a cache every process shares: an answer is computed once, and the rollup that changes the
figures makes it stale when it commits."""

from datetime import date, timedelta

import pytest

from apps.common.testing.factories import SysadminFactory, api_key_for
from apps.course_analytics.demo import tracking_log_lines
from apps.course_analytics.services.ingest import tracking_lines_ingest
from apps.course_analytics.services.rollups import course_analytics_rollup_range

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]
COURSE = "course-v1:TallyX+CACHE1+2026_T1"
START = date(2026, 10, 5)


def test_a_rollup_makes_the_cached_answer_stale(shared_cache, api_client, django_assert_max_num_queries):
    lines = list(tracking_log_lines(course_ids=[COURSE], learners=30, start=START, days=3, seed=3))
    by_day = {day: [line for line in lines if f'"time": "{day.isoformat()}' in line] for day in
              (START + timedelta(days=n) for n in range(3))}  # fmt: skip
    tracking_lines_ingest(lines=[*by_day[START], *by_day[START + timedelta(days=1)]], source="day 1 and 2")
    course_analytics_rollup_range(first=START, last=START + timedelta(days=1))
    path = f"/api/v0/courses/{COURSE}/enrollment/"
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(SysadminFactory())}")
    before = api_client.get(path).json()

    with django_assert_max_num_queries(2):  # the key and its use; the answer is the cache's
        assert api_client.get(path).json() == before
    tracking_lines_ingest(lines=by_day[START + timedelta(days=2)], source="day 3")
    course_analytics_rollup_range(first=START + timedelta(days=2), last=START + timedelta(days=2))
    after = api_client.get(path).json()

    assert [row["date"] for row in before] == [(START + timedelta(days=1)).isoformat()]
    assert [row["date"] for row in after] == [(START + timedelta(days=2)).isoformat()]
