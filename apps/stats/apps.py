from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "apps.stats"
    label = "stats"
    verbose_name = "Stats"

    def ready(self) -> None:
        from apps.common.api.ckan import ckan_action_register
        from apps.stats.api.actions import get_group_count

        ckan_action_register(name="get_group_count", function=get_group_count, sysadmin_only=True)
