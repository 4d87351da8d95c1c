from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group

from apps.dashboards.models import PermissionGroup

admin.site.unregister(Group)
admin.site.register(PermissionGroup, GroupAdmin)
