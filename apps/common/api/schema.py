"""OpenAPI for every dialect: drf-spectacular does not read renderers or exception handlers, so each view's error
responses are declared here once, from the dialect's error serializer."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class NativeErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)
    field = serializers.CharField(required=False)
    # A declared field named like Serializer.errors: the metaclass moves it into the fields, so nothing is shadowed.
    errors = serializers.DictField(required=False, help_text="Messages per field, for validation errors.")  # type: ignore[assignment]


class DialectAutoSchema(AutoSchema):
    """Adds the dialect's error responses (400/401/403/404) to every operation that can give them.

    A view names its error body with `error_serializer` (the native one by default) and may list further codes
    in `extra_error_codes`.
    """

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        error_serializer = getattr(self.view, "error_serializer", NativeErrorSerializer)
        for code in self._error_codes():
            responses.setdefault(code, self._get_response_for_code(error_serializer, code, direction=direction))
        return responses

    def _error_codes(self) -> list[str]:
        codes = ["400"]
        permission_classes = getattr(self.view, "permission_classes", [])
        if any(permission is not AllowAny for permission in permission_classes):
            codes += ["401", "403"]
        paginated_list = self.method == "GET" and self._is_list_view() and getattr(self.view, "pagination_class", None)
        if "{" in self.path or paginated_list:
            codes.append("404")
        codes += list(getattr(self.view, "extra_error_codes", []))
        return codes
