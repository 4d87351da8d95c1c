from django.urls import path

from apps.common.api.views import WhoAmIView

app_name = "common-api"

urlpatterns = [
    path("whoami/", WhoAmIView.as_view(), name="whoami"),
]
