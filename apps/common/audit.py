"""Audit entries for rows written in bulk.

django-auditlog records a write through the model signals of `save()` and `delete()`; `bulk_create`,
`bulk_update` and `QuerySet.update` send none. Services that write in bulk call these beside the write, so that the
audit log still has one entry per row, with the actor, address and API key of the request like any other entry.
"""

from collections.abc import Sequence

from auditlog import get_logentry_model
from auditlog.diff import model_instance_diff
from django.db.models import Model


def audit_log_created(*, instances: Sequence[Model]) -> None:
    """Log rows just written by `bulk_create` (their primary keys set)."""
    log_entry = get_logentry_model()
    for instance in instances:
        changes = model_instance_diff(None, instance)
        log_entry.objects.log_create(instance, action=log_entry.Action.CREATE, changes=changes)


def audit_log_updating(*, instances: Sequence[Model], fields: Sequence[str]) -> None:
    """Log changed rows about to be written by `bulk_update(instances, fields)`: each against its stored row."""
    if not instances:
        return
    log_entry = get_logentry_model()
    stored = type(instances[0])._default_manager.in_bulk([instance.pk for instance in instances])
    for instance in instances:
        changes = model_instance_diff(stored.get(instance.pk), instance, fields_to_check=fields)
        if changes:
            log_entry.objects.log_create(instance, action=log_entry.Action.UPDATE, changes=changes)
