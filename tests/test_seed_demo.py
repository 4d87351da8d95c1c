import pytest
from django.core.management import call_command

from apps.groups.models import Activity, Group, Membership


@pytest.mark.django_db
def test_seed_demo_builds_a_nested_realistic_tree_once():
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
