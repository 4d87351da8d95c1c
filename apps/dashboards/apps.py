from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class DashboardsConfig(AppConfig):
    """Staff pages over every app's figures. It reads the other apps; none imports it."""

    name = "apps.dashboards"
    label = "dashboards"
    verbose_name = "Staff access"


class TallyAdminConfig(admin_apps.AdminConfig):
    """Django's admin with Tally's site (its name, the dashboard index and pages) as the default `admin.site`."""

    default = False  # listed by path in INSTALLED_APPS in place of django.contrib.admin
    default_site = "apps.dashboards.sites.TallyAdminSite"


class LoginLockoutsConfig(AxesAppConfig):
    """django-axes (the admin login's rate limit) under a name staff recognise in the admin's index."""

    default = False  # listed by path in INSTALLED_APPS in place of axes
    verbose_name = "Login lockouts"
