"""The Sunbird group read from a cache every process shares: a write through any path shows in the next read, and
the members stay for the group's members and staff."""

import pytest

from apps.groups.services import MemberSpec, group_create, group_update, membership_visited_update

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def _read(sunbird, group, person):
    path = f"/api/group/v1/read/{group.public_id}?fields=members,activities"
    return sunbird.call("get", path, user_token=person.token)


def test_member_changes_visits_and_names_show_in_the_next_read(shared_cache, sunbird, u1, u2):
    group = group_create(actor=u1.user, name="Maths").group
    first = _read(sunbird, group, u1)[1]["result"]

    group_update(actor=u1.user, group_id=group.public_id, members_add=[MemberSpec(u2.id)])
    added = _read(sunbird, group, u1)[1]["result"]
    membership_visited_update(actor=u2.user, user_id=u2.id, visits=[(str(group.public_id), True)])
    visited = _read(sunbird, group, u1)[1]["result"]
    u2.user.first_name = "Renamed"
    u2.user.save()
    renamed = _read(sunbird, group, u1)[1]["result"]

    assert [member["userId"] for member in first["members"]] == [u1.id]
    assert [member["userId"] for member in added["members"]] == [u1.id, u2.id]
    assert [member["visited"] for member in visited["members"] if member["userId"] == u2.id] == [True]
    assert [member["name"] for member in renamed["members"] if member["userId"] == u2.id] == ["Renamed Tester"]


def test_a_cached_read_shows_its_members_to_members_only(shared_cache, sunbird, u1, u2):
    group = group_create(actor=u1.user, name="Maths").group
    assert _read(sunbird, group, u1)[0] == 200  # cached now

    status, body = _read(sunbird, group, u2)
    group_only = sunbird.call("get", f"/api/group/v1/read/{group.public_id}", user_token=u2.token)

    assert status == 401
    assert body["params"]["err"] == "GS_RED01"
    assert group_only[0] == 200
    assert "members" not in group_only[1]["result"]
