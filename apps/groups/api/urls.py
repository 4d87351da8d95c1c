from django.urls import include, path
from rest_framework.routers import DefaultRouter

from apps.groups.api import forms, sunbird, views

app_name = "groups-api"

router = DefaultRouter(trailing_slash=True)
router.register("groups", views.GroupViewSet, basename="group")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("activities", views.ActivityViewSet, basename="activity")

urlpatterns = [
    path("api/group/v1/create", sunbird.GroupCreateView.as_view(), name="sunbird-create"),
    path("api/group/v1/read/<str:group_id>", sunbird.GroupReadView.as_view(), name="sunbird-read"),
    path("api/group/v1/update", sunbird.GroupUpdateView.as_view(), name="sunbird-update"),
    path("api/group/v1/list", sunbird.GroupListView.as_view(), name="sunbird-list"),
    path("api/group/v1/delete", sunbird.GroupDeleteView.as_view(), name="sunbird-delete"),
    path("api/group/membership/v1/update", sunbird.MembershipUpdateView.as_view(), name="sunbird-membership-update"),
    path("api/data/v1/form/read", forms.FormReadView.as_view(), name="sunbird-form-read"),
    path("api/v1/", include(router.urls)),
]
