from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "apps.groups"
    label = "groups"
    verbose_name = "Learner groups"
    demo_seeder = "apps.groups.demo.demo_groups_seed"

    def ready(self) -> None:
        from apps.groups import receivers  # noqa: F401 (connects the receivers)
