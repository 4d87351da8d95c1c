from django.urls import path, re_path

from apps.common.api.ckan import CKANActionView, CKANVersionedActionView

app_name = "stats-api"

urlpatterns = [
    re_path(
        r"^api/(?P<version>[^/]+)/action/(?P<action>[^/]+)$",
        CKANVersionedActionView.as_view(),
        name="ckan-action-versioned",
    ),
    path("api/action/<str:action>", CKANActionView.as_view(), name="ckan-action"),
]
