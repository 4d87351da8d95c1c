"""The version of everything the groups dialects read (apps.common.versioned_cache): groups, memberships, media
items, comments and the names of their users. Whoever writes them bumps it once the write commits, so that no
cached page or read outlives the write: the receivers for saves and deletes, the services for writes in bulk."""

from django.db import transaction

from apps.common.versioned_cache import versions_bump

GROUPS_VERSION = "groups:data"


def groups_changed_on_commit() -> None:
    transaction.on_commit(lambda: versions_bump([GROUPS_VERSION]))
