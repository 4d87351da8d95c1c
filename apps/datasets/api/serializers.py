from rest_framework import serializers

from apps.datasets.models import DatasetJob


class DatasetJobSerializer(serializers.ModelSerializer):
    """A job as `get /jobs` reports it; `error` explains a failed one (with line numbers for bad files)."""

    type = serializers.SerializerMethodField()
    dt_created = serializers.DateTimeField(format="%Y-%m-%dT%H:%M:%SZ")
    dt_completed = serializers.DateTimeField(format="%Y-%m-%dT%H:%M:%SZ")

    class Meta:
        model = DatasetJob
        fields = ["reference", "type", "status", "dt_created", "dt_completed", "error"]

    def get_type(self, job) -> str:
        return "reports/datasets"


class DataApiFormSerializer(serializers.Serializer):
    """The form every Data API call posts (described once for OpenAPI)."""

    security = serializers.CharField(help_text="JSON: consumer_key, domain, timestamp[, expires], signature ($02$).")
    request = serializers.CharField(required=False, help_text="JSON request object, exactly as signed.")
    action = serializers.ChoiceField(choices=["get", "set", "update", "delete"])


class SessionIngestReportSerializer(serializers.Serializer):
    lines = serializers.IntegerField()
    added = serializers.IntegerField()
