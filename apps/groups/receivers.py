"""How cached group reads hear of changes: a save or delete of a group, a membership, a media item, a comment or a
user (whose name the reads show) makes every cached read stale once the writing transaction commits. Writes in bulk
happen in the group services, which say so themselves (apps.groups.versions)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.common.models import User
from apps.groups.models import Activity, Comment, Group, Media, Membership
from apps.groups.versions import groups_changed_on_commit


@receiver([post_save, post_delete], sender=Group, dispatch_uid="groups.versions.group")
@receiver([post_save, post_delete], sender=Membership, dispatch_uid="groups.versions.membership")
@receiver([post_save, post_delete], sender=Activity, dispatch_uid="groups.versions.activity")
@receiver([post_save, post_delete], sender=Media, dispatch_uid="groups.versions.media")
@receiver([post_save, post_delete], sender=Comment, dispatch_uid="groups.versions.comment")
@receiver([post_save, post_delete], sender=User, dispatch_uid="groups.versions.user")
def group_data_changed(sender, **kwargs) -> None:
    groups_changed_on_commit()
