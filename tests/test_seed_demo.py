from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from apps.common.demo import DEMO_COURSE_IDS
from apps.course_analytics.models import ActivityWeekly, EnrollmentDaily, VideoSummary
from apps.groups.models import Activity, Group, Membership


@pytest.mark.django_db
def test_seed_demo_builds_a_nested_realistic_tree_once():
    yesterday = timezone.now().date() - timedelta(days=1)  # as the demo's last day, should the seeding pass midnight
    call_command("seed_demo", verbosity=0)
    counts = (Group.objects.count(), Membership.objects.count(), Activity.objects.count())
    call_command("seed_demo", verbosity=0)

    assert 250 <= counts[0] <= 400
    assert counts == (Group.objects.count(), Membership.objects.count(), Activity.objects.count())
    assert Group.objects.filter(parent__parent__isnull=False).exists()
    deepest = Group.objects.filter(parent__parent__isnull=False).first()
    assert deepest.memberships.filter(role="admin").count() == 1
    assert deepest.memberships.count() > 10
    assert deepest.activities.filter(activity_type="Course").exists()
    assert EnrollmentDaily.objects.filter(date=yesterday).count() == len(DEMO_COURSE_IDS)
    assert ActivityWeekly.objects.exists()
    assert VideoSummary.objects.exists()
    assert get_user_model().objects.filter(username="learner001", lms_user_id__isnull=False).exists()
