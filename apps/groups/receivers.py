"""How cached getGroups pages hear of changes: a write to a group, a membership, a media item or a comment makes
every cached page stale once the writing transaction commits. (Writes in bulk happen inside the group services,
which save the group row too, and the counters the triggers keep live on that row.)"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.common.versioned_cache import versions_bump
from apps.groups.models import Comment, Group, Media, Membership
from apps.groups.selectors import GROUP_PAGES_VERSION


@receiver([post_save, post_delete], sender=Group, dispatch_uid="groups.pages.group")
@receiver([post_save, post_delete], sender=Membership, dispatch_uid="groups.pages.membership")
@receiver([post_save, post_delete], sender=Media, dispatch_uid="groups.pages.media")
@receiver([post_save, post_delete], sender=Comment, dispatch_uid="groups.pages.comment")
def group_data_changed(sender, **kwargs) -> None:
    transaction.on_commit(lambda: versions_bump([GROUP_PAGES_VERSION]))
