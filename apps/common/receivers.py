"""How the API key cache hears of changes: any write to a key or to a user (an owner deactivated, made staff or
not) makes every cached key stale once the writing transaction commits. Revokes through the service say so
themselves (they update without saving)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.common.key_cache import api_keys_cache_invalidate
from apps.common.models import ApiKey, User


@receiver([post_save, post_delete], sender=ApiKey, dispatch_uid="common.api_key_changed")
@receiver([post_save, post_delete], sender=User, dispatch_uid="common.user_changed")
def key_or_owner_changed(sender, **kwargs) -> None:
    transaction.on_commit(api_keys_cache_invalidate)
