"""Saves and deletes of this app's rows (the admin, a command) make the cached v0 answers stale on commit; the
rollups' bulk writes say so themselves (services.rollups._replace)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.course_analytics.versions import figures_changed_on_commit


@receiver([post_save, post_delete], dispatch_uid="course_analytics.figures_changed")
def figures_row_changed(sender, **kwargs) -> None:
    if sender._meta.app_label == "course_analytics":
        figures_changed_on_commit()
