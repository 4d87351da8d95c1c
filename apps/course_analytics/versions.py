"""The version of the figures the v0 API serves (apps.common.versioned_cache): the rollup tables. A rollup bumps
it once its transaction commits, and so does any other save or delete of this app's rows (the admin), so that no
cached answer outlives the rollup that changed it."""

from django.db import transaction

from apps.common.versioned_cache import versions_bump

FIGURES_VERSION = "course_analytics:figures"


def figures_changed_on_commit() -> None:
    transaction.on_commit(lambda: versions_bump([FIGURES_VERSION]))
