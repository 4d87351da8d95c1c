"""Who may call what: roles (sysadmin, staff) and the scopes of the request's API key.

A key's scopes only narrow what its owner's role allows; a request without a key (a staff session) is judged by
role alone. Each dialect renders a refusal (403) in its own shape.
"""

from rest_framework.permissions import BasePermission

from apps.common.models import ApiKey


def request_api_key(request) -> ApiKey | None:
    """The API key that authenticated `request`, if one did."""
    return request.auth if isinstance(request.auth, ApiKey) else None


def is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser))


class ApiKeyScope(BasePermission):
    """The request's API key, if any, may call the view's dialect (`view.dialect.name`), and write unless it is
    read-only (`view.request_writes`). Every dialect view applies it (apps.common.api.dialects)."""

    def has_permission(self, request, view):
        api_key = request_api_key(request)
        if api_key is None:
            return True
        dialect = view.dialect.name
        if dialect not in api_key.dialects:
            self.message = f"This API key may not call the {dialect} API."
            return False
        if api_key.read_only and view.request_writes(request):
            self.message = "This API key is read-only."
            return False
        return True


class AnalyticsReader(BasePermission):
    """Course analytics are for staff and for keys with the analytics scope (a trusted dashboard service)."""

    message = "Course analytics are for staff and for API keys with the analytics scope."

    def has_permission(self, request, view):
        api_key = request_api_key(request)
        return is_staff(request.user) or (api_key is not None and api_key.analytics)


class Ingester(BasePermission):
    """Posting tracking events is for staff and for keys with the ingest scope."""

    message = "Ingest is for staff and for API keys with the ingest scope."

    def has_permission(self, request, view):
        api_key = request_api_key(request)
        return is_staff(request.user) or (api_key is not None and api_key.ingest)


class IsSysadmin(BasePermission):
    """Only a sysadmin (a superuser) may call."""

    message = "Not authorized"

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_sysadmin)
