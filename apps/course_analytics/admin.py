from datetime import date, timedelta

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.course_analytics.models import (
    ActivityLearnersFile,
    ActivityWeekly,
    EnrollmentBirthYearDaily,
    EnrollmentDaily,
    EnrollmentEducationDaily,
    EnrollmentGenderDaily,
    EnrollmentLocationDaily,
    EnrollmentModeDaily,
    LearnerEnrollmentState,
    LearnerProfile,
    VideoSummary,
    VideoViewersFile,
    VideoViewingFile,
)
from apps.course_analytics.selectors import tracking_events_day_list, tracking_events_days
from apps.course_analytics.services.ingest import learner_profile_save
from apps.course_analytics.tasks import rollup_day

TRACKING_EVENTS_SHOWN = 500


def tracking_events_day_view(request: HttpRequest) -> HttpResponse:
    """Staff look up the stored tracking events of one UTC day (read-only), optionally of one course and one event
    type: the first TRACKING_EVENTS_SHOWN of them, oldest first, and how many match."""
    raw_day = request.GET.get("day", "")
    try:
        day = date.fromisoformat(raw_day) if raw_day else None
    except ValueError:
        day = None
    course_id, event_type = request.GET.get("course_id", "").strip(), request.GET.get("event_type", "").strip()
    total, events = (
        tracking_events_day_list(day=day, course_id=course_id, event_type=event_type, limit=TRACKING_EVENTS_SHOWN)
        if day
        else (0, [])
    )
    context = {
        **admin.site.each_context(request),
        "title": "Tracking events of a day",
        "days": tracking_events_days()[::-1],
        "day": day,
        "bad_day": bool(raw_day) and day is None,
        "course_id": course_id,
        "event_type": event_type,
        "total": total,
        "events": events,
        "shown": TRACKING_EVENTS_SHOWN,
    }
    return render(request, "admin/course_analytics/tracking_events_day.html", context)


@admin.register(LearnerEnrollmentState)
class LearnerEnrollmentStateAdmin(admin.ModelAdmin):
    list_display = ("course_id", "lms_user_id", "since", "enrolled", "mode")
    list_filter = ("enrolled", "since")
    search_fields = ("course_id", "lms_user_id")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LearnerProfile)
class LearnerProfileAdmin(admin.ModelAdmin):
    list_display = ("lms_user_id", "year_of_birth", "level_of_education", "gender", "country", "updated")
    list_filter = ("gender", "level_of_education")
    search_fields = ("lms_user_id", "country")

    readonly_fields = ("updated",)

    def save_model(self, request, obj, form, change):
        learner_profile_save(profile=obj)

    def has_delete_permission(self, request, obj=None):
        # Profiles come from the LMS export and are only ever replaced: a deletion would go unseen by the rollups,
        # which carry a day's demographic counts into the next while no profile has changed (see `updated`).
        return False


class RollupAdmin(admin.ModelAdmin):
    """Rollup rows are computed; staff read them and rerun the days they come from (a night carries the day before's
    rows into its own, so that they are never edited or deleted by hand)."""

    search_fields = ("course_id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DailyRollupAdmin(RollupAdmin):
    list_filter = ("date",)
    date_hierarchy = "date"
    actions = ("rerun_days",)

    @admin.action(description="Rerun the rollups of the selected rows' days")
    def rerun_days(self, request, queryset):
        days = sorted(set(queryset.values_list("date", flat=True)))
        for day in days:
            rollup_day.delay(day.isoformat())
        self.message_user(
            request, f"Rollups queued for {len(days)} day(s): {', '.join(map(str, days))}.", messages.INFO
        )


@admin.register(EnrollmentDaily)
class EnrollmentDailyAdmin(DailyRollupAdmin):
    list_display = ("course_id", "date", "count", "cumulative_count", "created")


@admin.register(EnrollmentModeDaily)
class EnrollmentModeDailyAdmin(DailyRollupAdmin):
    list_display = ("course_id", "date", "mode", "count", "cumulative_count", "created")
    list_filter = ("date", "mode")


@admin.register(EnrollmentGenderDaily)
class EnrollmentGenderDailyAdmin(DailyRollupAdmin):
    list_display = ("course_id", "date", "gender", "count", "cumulative_count", "created")


@admin.register(EnrollmentBirthYearDaily)
class EnrollmentBirthYearDailyAdmin(DailyRollupAdmin):
    list_display = ("course_id", "date", "birth_year", "count", "cumulative_count", "created")


@admin.register(EnrollmentEducationDaily)
class EnrollmentEducationDailyAdmin(DailyRollupAdmin):
    list_display = ("course_id", "date", "education_level", "count", "cumulative_count", "created")


@admin.register(EnrollmentLocationDaily)
class EnrollmentLocationDailyAdmin(DailyRollupAdmin):
    list_display = ("course_id", "date", "country_code", "count", "cumulative_count", "created")


@admin.register(ActivityWeekly)
class ActivityWeeklyAdmin(RollupAdmin):
    list_display = ("course_id", "interval_start", "interval_end", "activity_type", "count", "created")
    list_filter = ("activity_type", "interval_start")
    actions = ("rerun_weeks",)

    @admin.action(description="Rerun the rollups of the selected weeks (their last day)")
    def rerun_weeks(self, request, queryset):
        days = sorted({end.date() for end in queryset.values_list("interval_end", flat=True)})
        for week_end in days:
            rollup_day.delay((week_end - timedelta(days=1)).isoformat())
        self.message_user(request, f"Rollups queued for {len(days)} week(s).", messages.INFO)


@admin.register(VideoSummary)
class VideoSummaryAdmin(RollupAdmin):
    list_display = ("pipeline_video_id", "duration", "users_at_start", "users_at_end", "created")
    search_fields = ("course_id", "encoded_module_id")


class DayFileAdmin(RollupAdmin):
    date_hierarchy = "day"
    search_fields = ()


@admin.register(VideoViewingFile)
class VideoViewingFileAdmin(DayFileAdmin):
    list_display = ("day", "viewings", "name", "created")


@admin.register(VideoViewersFile)
class VideoViewersFileAdmin(RollupAdmin):
    list_display = ("first", "last", "viewers", "name", "created")
    search_fields = ()  # at most VIEWERS_FILES_MAX rows


@admin.register(ActivityLearnersFile)
class ActivityLearnersFileAdmin(DayFileAdmin):
    list_display = ("day", "learners", "name", "created")
