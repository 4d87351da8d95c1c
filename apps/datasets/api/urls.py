from django.urls import path, re_path

from apps.common.api.learnosity import VERSION_PATTERN
from apps.datasets.api import views

app_name = "datasets-api"

urlpatterns = [
    re_path(rf"^{VERSION_PATTERN}reports/datasets$", views.DatasetsView.as_view(), name="datasets"),
    re_path(rf"^{VERSION_PATTERN}jobs/reports/datasets$", views.DatasetJobView.as_view(), name="dataset-job"),
    re_path(rf"^{VERSION_PATTERN}jobs$", views.JobsView.as_view(), name="jobs"),
    path("datasets/files/in/<str:token>", views.InputFileView.as_view(), name="input-file"),
    re_path(
        r"^datasets/files/out/(?P<token>[^/]+)_(?P<page>[0-9]+)\.json$",
        views.OutputFileView.as_view(),
        name="output-file",
    ),
    path("api/v1/datasets/sessions/", views.SessionIngestView.as_view(), name="sessions"),
]
