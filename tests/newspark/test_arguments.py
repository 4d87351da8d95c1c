"""Every argument and filter of groups.getGroups, one test each."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission

from apps.common.testing.factories import UserFactory, api_key_for
from apps.groups.models import GroupStatus, Media, MemberStatus, ModerationStatus
from apps.groups.tests.factories import GroupFactory, MembershipFactory

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def grant(user, codename: str) -> None:
    user.user_permissions.add(Permission.objects.get(codename=codename, content_type__app_label="groups"))


def test_vhost_is_required_and_isolates(newspark):
    mine = GroupFactory(vhost=1)
    GroupFactory(vhost=2)
    assert newspark.ids(vhost=1) == [mine.pk]
    assert newspark.error(status=400)["message"] == "Invalid argument vhost: This field is required."
    assert newspark.error(status=400, vhost="x")["message"].startswith("Invalid argument vhost:")


def test_deleted_groups_are_gone(newspark):
    gone = GroupFactory(vhost=1, status=GroupStatus.INACTIVE)
    child = GroupFactory(vhost=1, parent=gone)
    assert newspark.ids(vhost=1, moderationStatus="all") == [child.pk]
    assert newspark.ids(vhost=1, **{"filters[parentGroupID]": gone.pk}) == []
    assert newspark.error("getGroup", status=404, groupId=gone.pk)["code"] == "group_not_found"


def test_uid_keeps_groups_the_user_is_an_active_member_of(newspark):
    member = UserFactory()
    joined, left, _ = GroupFactory(vhost=1), GroupFactory(vhost=1), GroupFactory(vhost=1)
    MembershipFactory(group=joined, user=member)
    MembershipFactory(group=left, user=member, status=MemberStatus.INACTIVE)
    assert newspark.as_user(api_key_for(member)).ids(vhost=1, uid=member.pk) == [joined.pk]


def test_another_user_s_memberships_need_the_permission(newspark):
    member, reader = UserFactory(), UserFactory()
    MembershipFactory(group=GroupFactory(vhost=1), user=member)

    public = newspark.error(status=403, vhost=1, uid=member.pk)
    refused = newspark.as_user(api_key_for(reader)).error(status=403, vhost=1, uid=member.pk)
    grant(reader, "getGroups")

    assert public["code"] == refused["code"] == "permission_denied"
    assert refused["message"] == "Another user's memberships need the groups.getGroups permission."
    assert len(newspark.ids(vhost=1, uid=member.pk)) == 1


@pytest.mark.parametrize(
    ("moderation", "expected"),
    [
        ("accepted", ["accepted"]),
        ("denied", ["denied"]),
        ("unmoderated", ["unmoderated"]),
        ("moderated", ["accepted", "denied"]),
        ("notdenied", ["accepted", "unmoderated"]),
        ("all", ["accepted", "denied", "unmoderated"]),
    ],
)
def test_moderation_status(newspark, moderation, expected):
    for status in ("accepted", "denied", "unmoderated", "deleted"):
        GroupFactory(vhost=1, name=status, moderation_status=status)
    result = newspark.result(vhost=1, moderationStatus=moderation, sort="name ASC")
    assert [item["name"] for item in result.values()] == expected
    assert newspark.error(status=400, vhost=1, moderationStatus="nope")["message"].startswith(
        "Invalid argument moderationStatus:"
    )


SORTS = {
    "created": lambda g: g.created_at,
    "id": lambda g: g.pk,
    "membercount": lambda g: g.counted_members,
    "mediacount": lambda g: g.counted_media,
    "approvedmediacount": lambda g: g.counted_media_accepted,
    "notdeniedmediacount": lambda g: g.counted_media_not_denied,
    "name": lambda g: g.name,
    "startdate": lambda g: g.starts_at,
    "enddate": lambda g: g.ends_at,
    "treeleft": lambda g: g.tree_left,
}


@pytest.mark.parametrize("field", sorted(SORTS))
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_sort_by_each_field_ties_broken_by_id(newspark, field, direction):
    # given groups with many equal values, so that the tie-break decides
    parent = GroupFactory(vhost=3, name="b", created_at=T0)
    groups = [parent]
    for n in range(8):
        group = GroupFactory(
            vhost=3, name="ab"[n % 2], created_at=T0 + timedelta(days=n % 3), parent=parent if n % 2 else None,
            starts_at=T0 + timedelta(days=n % 2) if n % 4 else None, ends_at=T0 if n % 3 else None,
        )  # fmt: skip
        for _ in range(n % 3):
            MembershipFactory(group=group)
            Media.objects.create(group=group, moderation_status=("accepted", "denied")[n % 2])
        groups.append(group)
    for group in groups:
        group.refresh_from_db()
    key = SORTS[field]
    present = sorted((g for g in groups if key(g) is not None), key=lambda g: g.pk)
    present.sort(key=key, reverse=direction == "DESC")  # stable: equal keys stay in id order
    expected = [g.pk for g in present] + sorted(g.pk for g in groups if key(g) is None)
    assert newspark.ids(vhost=3, sort=f"{field} {direction}") == expected


def test_sort_defaults_and_bad_sorts(newspark):
    old, new = GroupFactory(vhost=1, created_at=T0), GroupFactory(vhost=1, created_at=T0 + timedelta(days=1))
    assert newspark.ids(vhost=1) == [new.pk, old.pk]
    assert newspark.ids(vhost=1, sort="created") == [old.pk, new.pk]
    assert newspark.ids(vhost=1, sort="CREATED desc") == [new.pk, old.pk]
    for bad in ("nope", "created UP", "created ASC id", ""):
        assert newspark.error(status=400, vhost=1, sort=bad)["message"].startswith("Invalid argument sort:")
    assert newspark.error(status=400, vhost=1, sort="distance")["message"] == (
        "Invalid argument sort: distance needs filters[geoCenter]."
    )


def test_tree_order_follows_moves(newspark):
    a, b = GroupFactory(vhost=4, name="a"), GroupFactory(vhost=4, name="b")
    a1 = GroupFactory(vhost=4, parent=a, name="a1")
    b1 = GroupFactory(vhost=4, parent=b, name="b1")
    assert newspark.ids(vhost=4, sort="treeleft ASC") == [a.pk, a1.pk, b.pk, b1.pk]
    b1.parent = a
    b1.save()
    a.parent = b
    a.save()
    assert newspark.ids(vhost=4, sort="treeleft ASC") == [b.pk, a.pk, a1.pk, b1.pk]
    assert newspark.ids(vhost=4, sort="treeleft DESC") == [b1.pk, a1.pk, a.pk, b.pk]


def test_pagination_edges(newspark):
    groups = [GroupFactory(vhost=5) for _ in range(7)]
    ids = [g.pk for g in groups]
    assert newspark.ids(vhost=5, sort="id", pageSize=3) == ids[:3]
    assert newspark.ids(vhost=5, sort="id", pageSize=3, startPage=2) == ids[6:]  # the last page
    assert newspark.ids(vhost=5, sort="id", pageSize=3, startPage=3) == []  # past the end
    assert newspark.result(vhost=5, pageSize=3, startPage=3, includeTotalCount="true") == {"totalCount": "7"}
    assert newspark.ids(vhost=5, sort="id", pageSize=5000) == ids
    for name, value in (("pageSize", 5001), ("pageSize", 0), ("startPage", -1), ("startPage", "x")):
        assert newspark.error(status=400, vhost=5, **{name: value})["message"].startswith(f"Invalid argument {name}:")


def test_page_size_defaults_to_100(newspark):
    GroupFactory.create_batch(101, vhost=6)
    assert len(newspark.ids(vhost=6)) == 100
    assert len(newspark.ids(vhost=6, startPage=1)) == 1


def test_include_total_count_counts_every_match(newspark):
    GroupFactory.create_batch(3, vhost=7)
    assert newspark.result(vhost=7, pageSize=1, includeTotalCount="true")["totalCount"] == "3"
    assert "totalCount" not in newspark.result(vhost=7, includeTotalCount="false")


def test_no_limit_needs_its_permission(newspark):
    GroupFactory.create_batch(3, vhost=8)
    user = UserFactory()
    newspark.as_user(api_key_for(user))
    assert newspark.error(status=403, vhost=8, noLimit="true")["code"] == "permission_denied"
    grant(user, "getGroupsNoLimit")
    assert len(newspark.ids(vhost=8, noLimit="true", pageSize=1)) == 3


def test_child_group_count_counts_the_parents_children(newspark):
    parent = GroupFactory(vhost=9)
    child = GroupFactory(vhost=9, parent=parent)
    GroupFactory(vhost=9, parent=child)
    GroupFactory(vhost=9, parent=parent, moderation_status=ModerationStatus.DENIED)
    args = {"filters[parentGroupID]": parent.pk}
    assert newspark.result(vhost=9, childGroupCount="true", **args)["childGroupCount"] == "1"
    assert newspark.result(vhost=9, childGroupCount="true", moderationStatus="all", **args)["childGroupCount"] == "2"
    assert newspark.result(vhost=9, childGroupCount="true")["childGroupCount"] == "1"  # the vhost's roots


def test_group_type(newspark):
    group = GroupFactory(vhost=10, group_type=1)
    event = GroupFactory(vhost=10, group_type=2)
    assignment = GroupFactory(vhost=10, group_type=3)
    below_event = GroupFactory(vhost=10, group_type=1, parent=event)
    below_group = GroupFactory(vhost=10, group_type=3, parent=group)
    assert newspark.ids(vhost=10, sort="id") == [group.pk]
    assert newspark.ids(vhost=10, sort="id", groupType=2) == [event.pk]
    assert newspark.ids(vhost=10, sort="id", groupType="1,3") == [group.pk, assignment.pk, below_group.pk]
    assert newspark.ids(vhost=10, sort="id", groupType="null") == [
        group.pk, event.pk, assignment.pk, below_event.pk, below_group.pk,
    ]  # fmt: skip
    # when the event becomes a group, the group below it is returned again
    event.group_type = 1
    event.save()
    assert newspark.ids(vhost=10, sort="id") == [group.pk, event.pk, below_event.pk]
    for bad in ("4", "1,x", "group"):
        assert newspark.error(status=400, vhost=10, groupType=bad)["message"].startswith("Invalid argument groupType:")


def test_creator_user_id_of_another_user_needs_its_permission(newspark):
    user, other = UserFactory(), UserFactory()
    mine, theirs = GroupFactory(vhost=11, created_by=user), GroupFactory(vhost=11, created_by=other)
    newspark.as_user(api_key_for(user))
    assert newspark.ids(vhost=11, **{"filters[creatorUserID]": user.pk}) == [mine.pk]
    error = newspark.error(status=403, vhost=11, **{"filters[creatorUserID]": other.pk})
    assert error["code"] == "permission_denied"
    grant(user, "getGroups")
    assert newspark.ids(vhost=11, **{"filters[creatorUserID]": other.pk}) == [theirs.pk]


def test_anonymous_creator_filter_is_refused(newspark):
    user = UserFactory()
    assert newspark.error(status=403, vhost=1, **{"filters[creatorUserID]": user.pk})["code"] == "permission_denied"


def test_custom1(newspark):
    match = GroupFactory(vhost=12, custom1="blue")
    GroupFactory(vhost=12, custom1="blueish")
    assert newspark.ids(vhost=12, **{"filters[custom1]": "blue"}) == [match.pk]


def test_start_and_end_bounds(newspark):
    early = GroupFactory(vhost=13, starts_at=T0, ends_at=T0 + timedelta(days=1))
    late = GroupFactory(vhost=13, starts_at=T0 + timedelta(days=10), ends_at=T0 + timedelta(days=20))
    GroupFactory(vhost=13)
    middle = "2026-01-05 00:00:00"
    assert newspark.ids(vhost=13, **{"filters[startAfter]": middle}) == [late.pk]
    assert newspark.ids(vhost=13, **{"filters[startBefore]": middle}) == [early.pk]
    assert newspark.ids(vhost=13, **{"filters[endAfter]": "2026-01-05"}) == [late.pk]
    assert newspark.ids(vhost=13, **{"filters[endBefore]": "2026-01-05T00:00:00Z"}) == [early.pk]
    error = newspark.error(status=400, vhost=13, **{"filters[endBefore]": "soon"})
    assert error["message"].startswith("Invalid argument filters[endBefore]:")


def test_geo_not_null(newspark):
    placed = GroupFactory(vhost=14, latitude=1.0, longitude=2.0)
    GroupFactory(vhost=14, latitude=None, longitude=None)
    assert newspark.ids(vhost=14, **{"filters[geo]": "notnull"}) == [placed.pk]


def test_geo_boundaries_as_a_list_a_comma_list_and_across_the_antimeridian(newspark):
    toronto = GroupFactory(vhost=15, latitude=43.65, longitude=-79.38)
    fiji = GroupFactory(vhost=15, latitude=-17.7, longitude=178.1)
    samoa = GroupFactory(vhost=15, latitude=-13.8, longitude=-172.1)
    GroupFactory(vhost=15)
    assert newspark.ids(vhost=15, **{"filters[geoBoundaries][]": [62.86, -131.55, 35.08, -52.44]}) == [toronto.pk]
    assert newspark.ids(vhost=15, **{"filters[geoBoundaries]": "62.86,-131.55,35.08,-52.44"}) == [toronto.pk]
    # west 170 to east -170 crosses the antimeridian
    crossing = newspark.ids(vhost=15, sort="id", **{"filters[geoBoundaries]": "0,170,-30,-170"})
    assert crossing == [fiji.pk, samoa.pk]
    for bad in ("1,2,3", "a,b,c,d", "91,0,0,0", "0,181,0,0", "nan,0,0,0"):
        error = newspark.error(status=400, vhost=15, **{"filters[geoBoundaries]": bad})
        assert error["message"].startswith("Invalid argument filters[geoBoundaries]:")


def test_geo_center_and_distance(newspark):
    near = GroupFactory(vhost=16, latitude=43.64, longitude=-79.42)
    far = GroupFactory(vhost=16, latitude=45.5, longitude=-73.56)
    GroupFactory(vhost=16)
    center = {"filters[geoCenter]": "43.6355,-79.4245"}
    result = newspark.result(vhost=16, sort="distance ASC", **center, **{"filters[geoDistance]": 10_000})
    assert [int(item["id"]) for item in result.values()] == [near.pk]
    assert 400 < float(result["0"]["distancefromcenter"]) < 700
    assert newspark.ids(vhost=16, sort="distance DESC", **center)[:2] == [far.pk, near.pk]
    error = newspark.error(status=400, vhost=16, **{"filters[geoDistance]": 5})
    assert error["message"] == "Invalid argument filters[geoDistance]: Needs geoCenter."


def test_include_children_and_parent_group(newspark):
    parent = GroupFactory(vhost=17)
    child = GroupFactory(vhost=17, parent=parent)
    grandchild = GroupFactory(vhost=17, parent=child)
    GroupFactory(vhost=17)
    args = {"filters[parentGroupID]": parent.pk}
    assert newspark.ids(vhost=17, sort="id", **args) == [child.pk, grandchild.pk]
    assert newspark.ids(vhost=17, sort="id", **args, **{"filters[includeChildren]": "false"}) == [child.pk]
    assert newspark.ids(vhost=17, **{"filters[parentGroupID]": 10**12}) == []
    error = newspark.error(status=400, vhost=17, **{"filters[includeChildren]": "true"})
    assert error["message"] == "Invalid argument filters[includeChildren]: Only with parentGroupID."


def test_parent_of_another_vhost_matches_nothing(newspark):
    parent = GroupFactory(vhost=18)
    GroupFactory(vhost=18, parent=parent)
    assert newspark.ids(vhost=19, **{"filters[parentGroupID]": parent.pk}) == []


def test_media_id(newspark):
    holder = GroupFactory(vhost=20)
    GroupFactory(vhost=20)
    media = Media.objects.create(group=holder)
    assert newspark.ids(vhost=20, **{"filters[mediaID]": media.pk}) == [holder.pk]
    assert newspark.ids(vhost=20, **{"filters[mediaID]": media.pk + 1}) == []


def test_searches(newspark):
    by_name = GroupFactory(vhost=21, name="Chess Club")
    by_description = GroupFactory(vhost=21, description="we play chess")
    by_address = GroupFactory(vhost=21, address="1 Chess Street")
    by_host = GroupFactory(vhost=21, host="The chess federation")
    by_city = GroupFactory(vhost=21, city="Chesstown")
    GroupFactory(vhost=21, note="chess in the note is not searched")
    assert newspark.ids(vhost=21, **{"filters[searchName]": "chess"}) == [by_name.pk]
    assert newspark.ids(vhost=21, **{"filters[searchDescription]": "CHESS"}) == [by_description.pk]
    assert newspark.ids(vhost=21, sort="id", **{"filters[searchQuery]": "chess"}) == [
        by_name.pk, by_description.pk, by_address.pk, by_host.pk, by_city.pk,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "query",
    [
        "vhost=1&filters=abc",
        "vhost=1&filters[parentGroupID]=1&filters=x",
        "vhost=1&filters[geoCenter][]=1&filters[geoCenter][]=2&filters[geoDistance]=-1",
        "vhost=1&filters[geoCenter]=1",
        "vhost=99999999999999999999",
        "vhost=1&uid=99999999999999999999999",
        "vhost=1&filters[parentGroupID]=99999999999999999999999",
        "vhost=1&startPage=1000000001",
        "vhost=1&sort[]=id",
        "vhost=1&includeTotalCount=maybe",
        "vhost[a]=1",
        "vhost=1&filters[a][b][c]=1&filters[a]=2",
        "vhost=1&filters[geoBoundaries][x]=1",
        "vhost=1&filters[geoCenter]=inf,0",
        "vhost=1&filters[geoCenter]=1,1&filters[geoDistance]=1e999",
        "vhost=1&groupType=",
        "vhost=1&filters[startAfter]=2026-13-45",
        "vhost=1&%5B%5D=1",
    ],
)
def test_bad_arguments_are_400s_never_500s(newspark, query):
    for transport in ("json", "rest"):
        response = newspark.raw("getGroups", query, transport=transport)
        assert 400 <= response.status_code < 500 or response.status_code == 200, (query, response.content)
