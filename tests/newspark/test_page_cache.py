"""getGroups pages from a cache every process shares: a page is read once, a write to a group, a membership or a
media item shows in the next page, and the permission is checked on every request."""

import pytest

from apps.common.testing.factories import UserFactory, api_key_for
from apps.groups.models import Media
from apps.groups.services import MemberSpec, group_create, group_update
from apps.groups.tests.factories import GroupFactory, MembershipFactory

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def _items(newspark, **arguments) -> dict[str, dict]:
    result = newspark.result(**arguments)
    return {item["id"]: item for key, item in result.items() if key.isdigit()}


def test_a_page_is_read_once_until_a_write_commits(shared_cache, newspark, django_assert_num_queries):
    group = GroupFactory(vhost=31, name="Chess")
    _items(newspark, vhost=31)

    with django_assert_num_queries(0):
        cached = _items(newspark, vhost=31)
    group.name = "Chess club"
    group.save()
    after = _items(newspark, vhost=31)

    assert cached[str(group.pk)]["name"] == "Chess"
    assert after[str(group.pk)]["name"] == "Chess club"


def test_members_and_media_added_through_the_services_show_in_the_next_page(shared_cache, newspark):
    owner, member = UserFactory(), UserFactory()
    group = group_create(actor=owner, name="Band", vhost=32).group
    before = _items(newspark, vhost=32)[str(group.pk)]

    group_update(actor=owner, group_id=group.public_id, members_add=[MemberSpec(str(member.public_id))])
    Media.objects.create(group=group, created_by=owner)
    after = _items(newspark, vhost=32)[str(group.pk)]

    assert (before["memberCount"], before["mediaCount"]) == ("1", "0")
    assert (after["memberCount"], after["mediaCount"]) == ("2", "1")


def test_a_cached_page_is_still_refused_to_who_may_not_read_it(shared_cache, newspark):
    member, stranger = UserFactory(), UserFactory()
    MembershipFactory(group=GroupFactory(vhost=33), user=member)
    assert len(newspark.as_user(api_key_for(member)).ids(vhost=33, uid=member.pk)) == 1  # cached now

    refused = newspark.as_user(api_key_for(stranger)).error(status=403, vhost=33, uid=member.pk)

    assert refused["code"] == "permission_denied"
