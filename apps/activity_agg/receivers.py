"""How the aggregator hears of changes in the apps below it: new tracking events ask for an incremental refresh
(queued once the writing transaction commits), and a group write invalidates the group's cached aggregates once it
commits."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.activity_agg import cache
from apps.activity_agg.services import activity_aggregates_refresh_request
from apps.course_analytics.signals import tracking_events_stored
from apps.groups.models import Group


@receiver(tracking_events_stored, dispatch_uid="activity_agg.refresh_after_ingest")
def refresh_after_ingest(sender, *, days, **kwargs) -> None:
    activity_aggregates_refresh_request(days=days)


@receiver(post_save, sender=Group, dispatch_uid="activity_agg.group_saved")
def group_saved(sender, *, instance: Group, **kwargs) -> None:
    # Every group write (members, activities, status) saves the group row, through apps.groups.services.
    transaction.on_commit(lambda: cache.group_changed(group_id=instance.public_id))
