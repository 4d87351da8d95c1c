from django.apps import AppConfig


class ActivityAggConfig(AppConfig):
    name = "apps.activity_agg"
    label = "activity_agg"
    verbose_name = "Activity aggregates"
