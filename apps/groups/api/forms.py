"""Sunbird's form service read (`POST /api/data/v1/form/read`), for the forms that Sunbird's group pages read."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.common.api.dialects import DialectAPIView
from apps.common.api.sunbird_platform import SunbirdPlatform, SunbirdPlatformEnvelopeSerializer, platform_request
from apps.groups import selectors
from apps.groups.models import Form


class FormReadRequestSerializer(serializers.Serializer):
    type = serializers.CharField(max_length=64)
    subType = serializers.CharField(max_length=64)
    action = serializers.CharField(max_length=64)
    component = serializers.CharField(max_length=64, required=False, default=Form.ANY)
    framework = serializers.CharField(max_length=64, required=False, default=Form.ANY)
    rootOrgId = serializers.CharField(max_length=64, required=False, default=Form.ANY)


class FormSerializer(serializers.ModelSerializer):
    """`result.form` as the form service answers it."""

    rootOrgId = serializers.CharField(source="root_org_id")
    created_on = serializers.DateTimeField()
    last_modified_on = serializers.DateTimeField(allow_null=True)

    class Meta:
        model = Form
        fields = ("type", "subtype", "action", "component", "framework", "data", "created_on", "last_modified_on",
                  "rootOrgId")  # fmt: skip


class FormReadView(DialectAPIView):
    """Read a form: `{"request": {"type", "subType", "action"[, "component", "framework", "rootOrgId"]}}`. The best
    fitting form, falling back to `*` for component, framework and root org; 404 when there is none."""

    dialect = SunbirdPlatform
    sunbird_api_id = "api.form.read"
    invalid_request_err = "ERR_INVALID_REQUEST"

    @extend_schema(
        tags=["sunbird"],
        request=FormReadRequestSerializer,
        responses=SunbirdPlatformEnvelopeSerializer,
        operation_id="sunbird_form_read",
    )
    def post(self, request):
        data = platform_request(request.data, serializer_class=FormReadRequestSerializer)
        form = selectors.form_get(
            type=data["type"],
            subtype=data["subType"],
            action=data["action"],
            component=data["component"],
            framework=data["framework"],
            root_org_id=data["rootOrgId"],
        )
        return Response({"form": FormSerializer(form).data})
