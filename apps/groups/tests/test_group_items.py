"""Media items and comments through the native API: posted by members, moderated by admins, counted by getGroups."""

import pytest

from apps.common.testing.factories import UserFactory, api_key_for
from apps.groups.models import MemberRole
from apps.groups.tests.factories import GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("path", "content"), [("media", {"title": "Photo"}), ("comments", {"body": "Nice"})])
def test_members_post_admins_moderate_and_the_counts_follow(api_client, path, content):
    group = GroupFactory()
    admin, member, outsider = UserFactory(), UserFactory(), UserFactory()
    MembershipFactory(group=group, user=admin, role=MemberRole.ADMIN)
    MembershipFactory(group=group, user=member)

    def call(method, user, url, body=None):
        return getattr(api_client, method)(url, body, format="json", HTTP_AUTHORIZATION=f"Token {api_key_for(user)}")

    body = {"group": str(group.public_id), **content}
    refused = call("post", outsider, f"/api/v1/{path}/", body)
    assert (refused.status_code, refused.json()["code"]) == (403, "not_group_member")
    self_moderated = call("post", member, f"/api/v1/{path}/", {**body, "moderation_status": "accepted"})
    assert (self_moderated.status_code, self_moderated.json()["code"]) == (403, "not_group_admin")

    posted = call("post", member, f"/api/v1/{path}/", body)
    assert posted.status_code == 201
    assert posted.json()["moderation_status"] == "unmoderated"
    assert posted.json()["created_by"] == str(member.public_id)
    item = f"/api/v1/{path}/{posted.json()['id']}/"
    assert call("patch", member, item, {"moderation_status": "accepted"}).status_code == 403
    assert call("patch", admin, item, {"moderation_status": "accepted"}).json()["moderation_status"] == "accepted"

    group.refresh_from_db()
    counted = {"media": (group.counted_media, group.counted_media_accepted),
               "comments": (group.counted_comments, group.counted_comments_accepted)}[path]  # fmt: skip
    assert counted == (1, 1)
    assert call("delete", outsider, item).status_code == 403
    assert call("delete", member, item).status_code == 204
    group.refresh_from_db()
    assert (group.counted_media, group.counted_comments) == (0, 0)
