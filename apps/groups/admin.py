from django.contrib import admin
from django.db import models
from django.utils import timezone

from apps.groups.models import Activity, Form, Group, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "group"
    extra = 0
    fields = ("user", "role", "status", "visited", "created_at", "removed_at")
    readonly_fields = ("created_at", "removed_at")
    autocomplete_fields = ("user",)
    show_change_link = True


class ActivityInline(admin.TabularInline):
    model = Activity
    extra = 0
    fields = ("activity_id", "activity_type", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("name", "public_id", "id", "status", "type", "vhost", "moderation_status", "group_type",
                    "parent", "created_at")  # fmt: skip
    list_filter = ("status", "type", "vhost", "moderation_status", "group_type", "membership_type", "created_at")
    search_fields = ("name", "slug", "description", "public_id", "custom1", "city")
    list_select_related = ("parent",)
    readonly_fields = ("public_id", "revision_id", "created_at", "updated_at", "created_by", "updated_by")
    raw_id_fields = ("parent", "owner")
    date_hierarchy = "created_at"
    inlines = (MembershipInline, ActivityInline)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "group", "role", "status", "visited", "created_at", "removed_at")
    list_filter = ("role", "status", "visited")
    search_fields = ("user__username", "group__name", "group__public_id")
    list_select_related = ("user", "group")
    raw_id_fields = ("group", "user", "created_by", "updated_by", "removed_by")


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("activity_id", "activity_type", "group", "created_at")
    list_filter = ("activity_type",)
    search_fields = ("activity_id", "group__name")
    list_select_related = ("group",)
    raw_id_fields = ("group", "created_by")


@admin.register(Form)
class FormAdmin(admin.ModelAdmin):
    """Forms of Sunbird's form service that the group pages read; `data` is what clients receive."""

    list_display = ("type", "subtype", "action", "component", "framework", "root_org_id", "last_modified_on")
    list_filter = ("type", "subtype")
    search_fields = ("type", "subtype", "action", "root_org_id")
    readonly_fields = ("created_on",)

    def save_model(self, request, obj, form, change):
        if change:
            obj.last_modified_on = timezone.now()
        super().save_model(request, obj, form, change)
