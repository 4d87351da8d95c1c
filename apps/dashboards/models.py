from django.contrib.auth.models import Group


class PermissionGroup(Group):
    """Django's permission groups under a name that staff do not confuse with Tally's groups of learners."""

    class Meta:
        proxy = True
        verbose_name = "permission group"
