"""The counters getGroups reads are kept by the database on every write, whoever makes it."""

from apps.groups.models import Comment, Group, Media, Membership, MemberStatus
from apps.groups.tests.factories import GroupFactory, MembershipFactory


def counters(group: Group) -> tuple:
    group.refresh_from_db()
    return (
        group.counted_members, group.counted_media, group.counted_media_accepted, group.counted_media_not_denied,
        group.counted_comments, group.counted_comments_accepted, group.counted_comments_not_denied,
    )  # fmt: skip


def test_counters_follow_inserts_updates_moves_bulk_writes_and_deletes(db):
    group, other = GroupFactory(), GroupFactory()
    members = MembershipFactory.create_batch(3, group=group)
    Media.objects.bulk_create(
        [Media(group=group, moderation_status=status) for status in ("accepted", "denied", "unmoderated")]
    )
    comment = Comment.objects.create(group=group, body="hello", moderation_status="accepted")
    assert counters(group) == (3, 3, 1, 2, 1, 1, 1)

    Membership.objects.filter(pk=members[0].pk).update(status=MemberStatus.INACTIVE)
    Media.objects.filter(group=group, moderation_status="denied").update(moderation_status="accepted")
    comment.moderation_status = "denied"
    comment.save()
    assert counters(group) == (2, 3, 2, 3, 1, 0, 0)

    Membership.objects.filter(pk=members[1].pk).update(group=other)
    Media.objects.filter(group=group, moderation_status="unmoderated").delete()
    comment.delete()
    assert counters(group) == (1, 2, 2, 2, 0, 0, 0)
    assert counters(other) == (1, 0, 0, 0, 0, 0, 0)


def test_a_stale_group_save_keeps_the_counters_and_tree_numbers(db):
    stale = GroupFactory()
    GroupFactory(parent=stale)
    MembershipFactory(group=stale)
    stale.name = "renamed"
    stale.save()
    stale.refresh_from_db()
    assert (stale.counted_members, stale.tree_right - stale.tree_left) == (1, 3)
