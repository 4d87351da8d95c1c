from django.apps import AppConfig


class ActivityAggConfig(AppConfig):
    name = "apps.activity_agg"
    label = "activity_agg"
    verbose_name = "Activity aggregates"

    def ready(self) -> None:
        from apps.activity_agg import receivers  # noqa: F401 (connects the receivers)
