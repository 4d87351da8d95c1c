"""Admin registrations of this app: the computed tables read-only, and the leaf-content counts staff set."""

from django.contrib import admin

from apps.activity_agg.models import ActivityAggregate, ContentProgress, CourseContentCount, RefreshRequest
from apps.activity_agg.services import course_leaf_contents_set


class ComputedAdmin(admin.ModelAdmin):
    """Rows computed from tracking events: staff read them; `rebuild_activity_aggregates` recomputes them."""

    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ActivityAggregate)
class ActivityAggregateAdmin(ComputedAdmin):
    list_display = ("activity_id", "activity_type", "user", "metric", "value", "last_updated")
    list_filter = ("metric", "activity_type")
    search_fields = ("activity_id", "user__username")
    list_select_related = ("user",)


@admin.register(ContentProgress)
class ContentProgressAdmin(ComputedAdmin):
    list_display = ("course_id", "lms_user_id", "content_id", "completed_at", "best_score", "max_score")
    search_fields = ("course_id", "content_id", "lms_user_id")


@admin.register(RefreshRequest)
class RefreshRequestAdmin(ComputedAdmin):
    """The days whose newly stored events a refresh has yet to read: one that stays here long is of a refresh that
    no worker took or that failed, which the nightly refresh reads."""

    list_display = ("day", "requested", "taken")
    ordering = ("day",)

    def has_delete_permission(self, request, obj=None):
        # A request deleted by hand would leave its day's events unread.
        return False


@admin.register(CourseContentCount)
class CourseContentCountAdmin(admin.ModelAdmin):
    """Setting a course's leaf-content count recomputes its members' progress."""

    list_display = ("course_id", "leaf_contents", "updated_at")
    search_fields = ("course_id",)
    fields = ("course_id", "leaf_contents")

    def save_model(self, request, obj, form, change):
        saved = course_leaf_contents_set(course_id=obj.course_id, leaf_contents=obj.leaf_contents)
        obj.pk, obj.updated_at = saved.pk, saved.updated_at
