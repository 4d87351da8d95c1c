from django.apps import AppConfig


class ActivityAggConfig(AppConfig):
    name = "apps.activity_agg"
    label = "activity_agg"
    verbose_name = "Activity aggregates"
    demo_seeder = "apps.activity_agg.demo.demo_activity_agg_seed"

    def ready(self) -> None:
        from apps.activity_agg import receivers  # noqa: F401 (connects the receivers)
