import threading

import pytest
from django.db import connection
from django.test import override_settings

from apps.common.exceptions import ServiceError
from apps.common.testing.factories import UserFactory
from apps.groups import services
from apps.groups.models import Group, Membership
from apps.groups.services import MEMBER_LIMIT, MemberSpec


@pytest.mark.django_db
def test_a_failing_update_applies_nothing():
    admin, newcomer = UserFactory(), UserFactory()
    group = services.group_create(actor=admin, name="Maths").group

    with pytest.raises(ServiceError) as failure:
        services.group_update(
            actor=admin,
            group_id=group.public_id,
            changes={"name": "x" * 300},
            members_add=[MemberSpec(str(newcomer.public_id))],
        )

    assert failure.value.field == "name"
    assert not Membership.objects.filter(user=newcomer).exists()
    assert Group.objects.get().name == "Maths"


@pytest.mark.django_db
def test_unknown_fields_are_refused():
    with pytest.raises(ServiceError, match="Unknown group fields: public_id"):
        services.group_create(actor=UserFactory(), name="Maths", public_id="x")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(GROUPS_MAX_MEMBERS=2)
def test_two_concurrent_adds_past_the_member_limit_cannot_both_succeed():
    # given a group with one free place and two users who want it, each added over its own connection
    admin = UserFactory()
    group = services.group_create(actor=admin, name="Maths").group
    candidates = [UserFactory(), UserFactory()]
    barrier = threading.Barrier(2)
    results = {}

    def add(candidate):
        try:
            barrier.wait()
            result = services.group_update(
                actor=admin, group_id=group.public_id, members_add=[MemberSpec(str(candidate.public_id))]
            )
            results[candidate.pk] = [error.code for error in result.member_errors]
        finally:
            connection.close()

    # when both add at once
    threads = [threading.Thread(target=add, args=(candidate,)) for candidate in candidates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then exactly one got in and the other was told the group is full
    assert sorted(results.values()) == [[], [MEMBER_LIMIT]]
    assert Membership.objects.filter(group=group, status="active").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(GROUPS_MAX_PER_CREATOR=1)
def test_two_concurrent_creates_past_the_group_limit_cannot_both_succeed():
    creator = UserFactory()
    barrier = threading.Barrier(2)
    outcomes = []

    def create(name):
        try:
            barrier.wait()
            services.group_create(actor=creator, name=name)
            outcomes.append("created")
        except services.GroupLimitError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(name,)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["created", "refused"]
    assert Group.objects.count() == 1
