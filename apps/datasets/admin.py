"""Admin registrations of this app: every model with list display, filters and search."""

from django.contrib import admin

from apps.datasets.models import (
    Consumer,
    Dataset,
    DatasetInputFile,
    DatasetJob,
    DatasetOutputFile,
    Session,
    SessionSnapshotPart,
)
from apps.datasets.services import sessions_snapshot_drop


@admin.register(Consumer)
class ConsumerAdmin(admin.ModelAdmin):
    list_display = ("name", "consumer_key", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "consumer_key")
    readonly_fields = ("consumer_key", "created_at")
    exclude = ("consumer_secret",)  # shown once, by manage.py create_consumer


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("session_id", "user_id", "activity_id", "score", "max_score", "status", "dt_completed")
    list_filter = ("status",)
    search_fields = ("session_id", "user_id", "activity_id")
    date_hierarchy = "dt_completed"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:  # the sessions' columnar copy notices new and deleted sessions, not one changed in place
            sessions_snapshot_drop()


@admin.register(SessionSnapshotPart)
class SessionSnapshotPartAdmin(admin.ModelAdmin):
    """The columnar copy of the sessions, maintained by ingest and builds: shown, never edited by hand."""

    list_display = ("name", "last_id", "rows", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DatasetInputFileInline(admin.TabularInline):
    model = DatasetInputFile
    extra = 0
    readonly_fields = ("index", "name", "size", "uploaded_at")
    can_delete = False


class DatasetJobInline(admin.StackedInline):
    model = DatasetJob
    extra = 0
    readonly_fields = ("reference", "status", "error", "dt_created", "dt_completed")
    can_delete = False


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("dataset_id", "consumer", "file_count", "group_source", "created_at")
    list_filter = ("consumer", "job__status")
    search_fields = ("dataset_id",)
    list_select_related = ("consumer", "group_source")
    readonly_fields = ("dataset_id", "consumer", "dataset_type", "file_count", "spec", "group_source", "created_at",
                       "upload_expires_at")  # fmt: skip
    inlines = (DatasetJobInline, DatasetInputFileInline)


@admin.register(DatasetJob)
class DatasetJobAdmin(admin.ModelAdmin):
    list_display = ("reference", "dataset", "status", "dt_created", "dt_completed")
    list_filter = ("status",)
    search_fields = ("reference", "dataset__dataset_id")
    list_select_related = ("dataset",)
    readonly_fields = ("reference", "dataset", "status", "error", "dt_created", "dt_completed")


@admin.register(DatasetOutputFile)
class DatasetOutputFileAdmin(admin.ModelAdmin):
    list_display = ("name", "dataset", "group_id", "page")
    search_fields = ("name", "group_id", "dataset__dataset_id")
    list_select_related = ("dataset",)
    readonly_fields = ("dataset", "key", "group_id", "page", "name")
