from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.common.api.dialects import DialectAPIView
from apps.common.api.native import Native
from apps.common.api.serializers import WhoAmISerializer


class WhoAmIView(DialectAPIView):
    """Who the credentials of this request belong to: a quick check that an API key works."""

    dialect = Native

    @extend_schema(responses=WhoAmISerializer, operation_id="whoami")
    def get(self, request):
        api_key = request.auth if hasattr(request.auth, "prefix") else None
        user = request.user
        payload = {
            "public_id": user.public_id,
            "username": user.username,
            "is_sysadmin": user.is_sysadmin,
            "is_staff": user.is_staff,
            "api_key_prefix": api_key.prefix if api_key else None,
        }
        return Response(WhoAmISerializer(payload).data)
