"""Pinned query counts of the Newspark reads, and (PostgreSQL) the plan of a page over 100,000 groups."""

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.common.testing.factories import UserFactory, api_key_for
from apps.groups.models import Group, Media, Membership
from apps.groups.tests.factories import GroupFactory, MembershipFactory


def populate(vhost: int) -> Group:
    parent = GroupFactory(vhost=vhost, latitude=10, longitude=10)
    for n in range(5):
        child = GroupFactory(vhost=vhost, parent=parent, other={"n": n})
        MembershipFactory(group=child)
        Media.objects.create(group=child)
    logo = Media.objects.create(group=parent, width=10, height=10)
    parent.logo = logo.pk
    parent.save()
    return parent


@pytest.mark.parametrize(
    ("arguments", "queries"),
    [
        ({}, 2),  # the page, and the logo the parent shows
        ({"includeTotalCount": "true"}, 3),
        ({"childGroupCount": "true", "includeTotalCount": "true", "filters[parentGroupID]": "PARENT"}, 4),
        ({"sort": "distance ASC", "filters[geoCenter]": "1,1", "filters[geoDistance]": "5000000"}, 2),
        ({"filters[mediaID]": 1, "filters[searchQuery]": "x", "sort": "membercount DESC"}, 1),
        ({"filters[custom1]": "no logo on this page"}, 1),
    ],
)
def test_get_groups_pins_its_queries(newspark, django_assert_num_queries, arguments, queries):
    parent = populate(vhost=50)
    arguments = {key: parent.pk if value == "PARENT" else value for key, value in arguments.items()}
    with django_assert_num_queries(queries):
        newspark.result(vhost=50, **arguments)


def test_logos_past_one_lookup_are_read_a_lookup_at_a_time(newspark, django_assert_num_queries, monkeypatch):
    from apps.common import lookups

    monkeypatch.setattr(lookups, "ID_LOOKUP_SIZE", 2)
    parent = populate(vhost=53)
    for child in parent.children.all():
        child.logo = Media.objects.create(group=child, width=child.pk, height=1).pk
        child.save()

    with django_assert_num_queries(4):  # the page, and its six logos two a lookup
        result = newspark.result(vhost=53)

    widths = {int(item["id"]): item["logo_width"] for key, item in result.items() if key.isdigit()}
    assert widths == {parent.pk: "10", **{child.pk: str(child.pk) for child in parent.children.all()}}


def test_a_user_s_own_groups_pin_their_queries(newspark, django_assert_num_queries):
    parent = populate(vhost=52)
    child = parent.children.first()
    member = child.memberships.first().user
    newspark.as_user(api_key_for(member))

    with django_assert_num_queries(3):  # the key and its last use, then the page
        assert newspark.ids(vhost=52, uid=member.pk) == [child.pk]


def test_get_group_and_tree_pin_their_queries(newspark, django_assert_num_queries):
    parent = populate(vhost=51)
    with django_assert_num_queries(2):
        newspark.result("getGroup", groupId=parent.pk)
    with django_assert_num_queries(2):
        newspark.result("getGroupTree", vhost=51)
    with django_assert_num_queries(2):
        newspark.result("getGroupTree", vhost=51, parentGroup=parent.pk)


def _plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


@pytest.mark.postgres
def test_a_page_of_100_over_100k_groups_reads_no_per_group_rows(newspark):
    # given 100,000 groups of one vhost, with members and media spread over them, and statistics
    rng = random.Random(3)
    origin = datetime(2024, 1, 1, tzinfo=UTC)
    Group.objects.bulk_create(
        [
            Group(
                name=f"g{n}",
                slug=f"bulk-{n}",
                vhost=60,
                created_at=origin + timedelta(minutes=n),
                latitude=rng.uniform(-90, 90),
                longitude=rng.uniform(-180, 180),
            )
            for n in range(100_000)
        ],
        batch_size=10_000,
    )
    ids = list(Group.objects.filter(vhost=60).values_list("pk", flat=True))
    users = UserFactory.create_batch(20)
    Membership.objects.bulk_create(
        [Membership(group_id=rng.choice(ids), user=user) for user in users for _ in range(1)]
        + [Membership(group_id=group_id, user=users[0]) for group_id in rng.sample(ids, 3_000)],
        ignore_conflicts=True,
    )
    Media.objects.bulk_create([Media(group_id=rng.choice(ids)) for _ in range(5_000)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE groups_group; ANALYZE groups_membership; ANALYZE groups_media")

    for arguments, index in (
        ({"sort": "membercount DESC"}, "group_vhost_members"),
        ({"sort": "distance ASC", "filters[geoCenter]": "45,-75", "filters[geoDistance]": 1_500_000}, "group_geo"),
    ):
        with CaptureQueriesContext(connection) as captured:
            result = newspark.result(vhost=60, **arguments)
        assert len([key for key in result if key.isdigit()]) == 100
        (page_sql,) = [q["sql"] for q in captured.captured_queries]
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {page_sql}")
            plan = cursor.fetchone()[0]
        nodes = list(_plan_nodes((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]))
        relations = {node.get("Relation Name") for node in nodes} - {None}
        assert relations == {"groups_group"}, relations
        assert not [node for node in nodes if node["Node Type"] == "Aggregate"]
        assert any(node.get("Index Name") == index for node in nodes), [n["Node Type"] for n in nodes]
