"""Audit entries for rows written in bulk.

django-auditlog records a write through the model signals of `save()` and `delete()`; `bulk_create`,
`bulk_update`, `QuerySet.update` and COPY send none. Services that write in bulk call these beside the write, so
that the audit log still has an entry per row (or one per batch of events), with the actor, address and API key of
the request like any other entry.
"""

from collections.abc import Sequence

from auditlog import get_logentry_model
from auditlog.cid import get_cid
from auditlog.diff import model_instance_diff
from django.contrib.contenttypes.models import ContentType
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


def audit_log_batch(*, app_label: str, kind: str, source: str, counts: dict[str, int]) -> None:
    """Log one batch of rows written without model instances (tracking events into the event store, which has no
    model) from `source`, under the content type `app_label.kind`, with the counts of what it read and wrote."""
    log_entry = get_logentry_model()
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=kind)
    log_entry.objects.create(
        content_type=content_type,
        object_pk=source[:255],
        object_repr=f"{kind} from {source}",
        action=log_entry.Action.CREATE,
        changes={name: [None, str(count)] for name, count in counts.items()},
        cid=get_cid(),
    )
