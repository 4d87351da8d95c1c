from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.common.views import healthz
from apps.course_analytics.admin import tracking_events_day_view
from apps.dashboards.views import landing

docs_page = csp_update({"script-src": [UNSAFE_INLINE]})

urlpatterns = [
    path("", landing, name="landing"),
    path("healthz", healthz, name="healthz"),
    path(
        "admin/course_analytics/tracking-events/",
        admin.site.admin_view(tracking_events_day_view),
        name="course_analytics_tracking_events",
    ),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Both pages start their viewer with an inline script.
    path("api/docs/", docs_page(SpectacularSwaggerView.as_view(url_name="schema")), name="swagger-ui"),
    path("api/redoc/", docs_page(SpectacularRedocView.as_view(url_name="schema")), name="redoc"),
    path("api/v1/auth/", include("apps.common.api.urls")),
    path("", include("apps.groups.api.urls")),
    path("", include("apps.stats.api.urls")),
    path("", include("apps.course_analytics.api.urls")),
    path("", include("apps.activity_agg.api.urls")),
    path("", include("apps.datasets.api.urls")),
]

handler404 = "apps.common.views.not_found"
handler500 = "apps.common.views.server_error"
