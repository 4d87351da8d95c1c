from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "apps.common"
    label = "common"
    verbose_name = "Platform"
    demo_seeder = "apps.common.demo.demo_users_seed"

    def ready(self) -> None:
        from apps.common import (  # noqa: F401
            checks,  # registers the deployment checks
            lookups,  # registers the `like` and `any_of` lookups
            receivers,  # connects the API key cache's receivers
        )
