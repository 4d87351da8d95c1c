from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "apps.common"
    label = "common"
    verbose_name = "Platform"
    demo_seeder = "apps.common.demo.demo_users_seed"

    def ready(self) -> None:
        from apps.common import lookups  # noqa: F401  (registers the `like` lookup)
