from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.common.views import healthz
from apps.dashboards.views import landing

urlpatterns = [
    path("", landing, name="landing"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/v1/auth/", include("apps.common.api.urls")),
    path("", include("apps.groups.api.urls")),
    path("", include("apps.stats.api.urls")),
    path("", include("apps.course_analytics.api.urls")),
    path("", include("apps.activity_agg.api.urls")),
    path("", include("apps.datasets.api.urls")),
]

handler404 = "apps.common.views.not_found"
handler500 = "apps.common.views.server_error"
