from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "apps.groups"
    label = "groups"
    verbose_name = "Groups"
    demo_seeder = "apps.groups.demo.demo_groups_seed"
