from django.urls import path

from apps.activity_agg.api import views

app_name = "activity_agg-api"

urlpatterns = [
    path("api/data/v1/group/activity/agg", views.GroupActivityAggView.as_view(), name="sunbird-activity-agg"),
    path("api/data/v1/group/agg", views.GroupAggView.as_view(), name="sunbird-group-agg"),
    path(
        "api/v1/groups/<uuid:group_id>/activity-aggregates/",
        views.GroupActivityAggListView.as_view(),
        name="group-activity-aggregates",
    ),
]
