"""Deployment checks (`manage.py check --deploy`) of what the platform's own settings must agree on."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.compatibility, deploy=True)
def visibility_timeout_check(app_configs, **kwargs) -> list[Warning]:
    """A task whose worker dies is delivered again once the broker's visibility timeout has passed: shorter than
    the longest task, and a task still running is delivered to a second worker too."""
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    if timeout > settings.CELERY_TASK_TIME_LIMIT:
        return []
    return [
        Warning(
            f"The broker's visibility timeout ({timeout} s) is not longer than the task time limit "
            f"({settings.CELERY_TASK_TIME_LIMIT} s): a long task would be delivered twice.",
            hint="Raise TALLY_CELERY_VISIBILITY_TIMEOUT_SECONDS above CELERY_TASK_TIME_LIMIT.",
            id="tally.W001",
        )
    ]
