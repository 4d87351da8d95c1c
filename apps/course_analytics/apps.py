from django.apps import AppConfig


class CourseAnalyticsConfig(AppConfig):
    name = "apps.course_analytics"
    label = "course_analytics"
    verbose_name = "Course analytics"
    demo_seeder = "apps.course_analytics.demo.demo_course_analytics_seed"

    def ready(self) -> None:
        from apps.course_analytics import receivers  # noqa: F401 (connects the receivers)
