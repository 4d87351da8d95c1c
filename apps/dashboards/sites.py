from django.contrib import admin
from django.urls import include, path, re_path

from apps.common.api.edx_analytics import COURSE_ID_PATTERN


class TallyAdminSite(admin.AdminSite):
    """The admin named for Tally, whose index is the staff dashboard and which serves the dashboard pages.

    Every page goes through `admin_view`: staff only, anyone else gets the admin login.
    """

    site_header = "Tally"
    site_title = "Tally"
    index_title = "Dashboard"
    index_template = "dashboards/index.html"

    def index(self, request, extra_context=None):
        from apps.dashboards.selectors import platform_totals  # the site is built before the apps' models load

        return super().index(request, {"totals": platform_totals(), **(extra_context or {})})

    def get_urls(self):
        from apps.dashboards import views

        page = self.admin_view
        pages = [
            path("courses/", page(views.course_list), name="dashboards-courses"),
            re_path(rf"^courses/{COURSE_ID_PATTERN}/$", page(views.course_page), name="dashboards-course"),
            re_path(rf"^courses/{COURSE_ID_PATTERN}/(?P<figure>[a-z_]+)\.csv$", page(views.course_csv),
                    name="dashboards-course-csv"),
            path("groups/", page(views.group_list), name="dashboards-groups"),
            path("groups/<str:group_id>/", page(views.group_page), name="dashboards-group"),
            path("members/<str:user_id>/", page(views.member_page), name="dashboards-member"),
            path("datasets/", page(views.dataset_list), name="dashboards-datasets"),
            path("datasets/<uuid:dataset_id>/", page(views.dataset_page), name="dashboards-dataset"),
            path("jobs/", page(views.job_list), name="dashboards-jobs"),
            path("jobs/<str:kind>/", page(views.job_page), name="dashboards-job"),
            path("jobs/<str:kind>/rerun/", page(views.job_rerun), name="dashboards-job-rerun"),
        ]  # fmt: skip
        return [path("dashboards/", include(pages)), *super().get_urls()]
