from auditlog.admin import LogEntryAdmin
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.common.models import ApiKey, AuditLogEntry, JobRun, User
from apps.common.services import api_key_create, api_key_revoke


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "public_id", "email", "is_staff", "is_superuser", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("username", "email", "first_name", "last_name", "public_id")
    readonly_fields = ("public_id",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Public identity", {"fields": ("public_id",)}),
        ("Managed account", {"fields": ("managed_by",)}),
    )
    autocomplete_fields = ("managed_by",)


SCOPE_FIELDS = ("dialects", "read_only", "analytics", "ingest", "service")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created here with a fresh secret, shown once in a message; only the digest is kept."""

    list_display = (
        "prefix", "name", "user", "is_sysadmin", "get_dialects_display", "read_only", "analytics", "ingest",
        "service", "created_at", "expires_at", "revoked", "last_used",
    )  # fmt: skip
    list_filter = ("revoked", "read_only", "analytics", "ingest", "service", "user__is_superuser", "created_at")
    search_fields = ("prefix", "name", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("prefix", "created_at", "last_used")
    autocomplete_fields = ("user",)
    actions = ("revoke_keys",)

    @admin.display(boolean=True, description="sysadmin")
    def is_sysadmin(self, obj: ApiKey) -> bool:
        return obj.is_sysadmin

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "name", "expires_at", *SCOPE_FIELDS)
        return ("user", "name", "prefix", "created_at", "expires_at", "revoked", "last_used", *SCOPE_FIELDS)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        scopes = {field: getattr(obj, field) for field in SCOPE_FIELDS}
        created, raw_key = api_key_create(user=obj.user, name=obj.name, expires_at=obj.expires_at, **scopes)
        # The admin logs and redirects to `obj`, so it takes the saved row's identity.
        obj.pk, obj.prefix, obj.digest, obj.created_at = created.pk, created.prefix, created.digest, created.created_at
        self.message_user(
            request,
            f"API key created. Copy it now, it is not shown again: {raw_key}",
            level=messages.WARNING,
        )

    @admin.action(description="Revoke selected API keys")
    def revoke_keys(self, request, queryset):
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).")


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("kind", "key", "status", "started", "finished", "rows")
    list_filter = ("status", "kind", "started")
    search_fields = ("kind", "key", "error")
    readonly_fields = ("kind", "key", "status", "started", "finished", "rows", "error")
    date_hierarchy = "started"

    def has_add_permission(self, request):
        return False


admin.site.unregister(AuditLogEntry)


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(LogEntryAdmin):
    """django-auditlog's read-only log, with the API key and address of each write, open to every staff user."""

    list_select_related = ("content_type", "actor", "api_key")
    list_display = ("created", "resource_url", "action", "msg_short", "user_url", "api_key", "remote_addr")
    list_filter = ("action", "content_type", "timestamp")
    search_fields = ("object_repr", "actor__username", "api_key__prefix", "remote_addr")
    fieldsets = (
        (None, {"fields": ("created", "user_url", "api_key", "remote_addr", "resource_url")}),
        ("Changes", {"fields": ("action", "msg")}),
    )
    readonly_fields = ("created", "resource_url", "action", "user_url", "msg", "api_key", "remote_addr")

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff
