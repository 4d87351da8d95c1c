"""Who may call what: roles (sysadmin, staff) and the scopes of the request's API key.

A key's scopes only narrow what its owner's role allows; a request without a key (a staff session) is judged by
role alone. Each dialect renders a refusal (403) in its own shape.
"""

from rest_framework.permissions import BasePermission

from apps.common.models import ApiKey


def request_api_key(request) -> ApiKey | None:
    """The API key that authenticated `request`, if one did."""
    return request.auth if isinstance(request.auth, ApiKey) else None


def request_api_keys(request) -> list[ApiKey]:
    """Every API key that authenticated `request`: the caller's, and the acting users' where a dialect names them
    by their keys (Sunbird's user tokens, set by its authentication as `acting_api_keys`)."""
    caller = request_api_key(request)
    return ([caller] if caller else []) + list(getattr(request, "acting_api_keys", ()))


class ApiKeyScope(BasePermission):
    """Each of the request's API keys may call the view's dialect (`view.dialect.name`), and write unless it is
    read-only (`view.request_writes`). Every dialect view applies it (apps.common.api.dialects)."""

    def has_permission(self, request, view):
        dialect = view.dialect.name
        for api_key in request_api_keys(request):
            if dialect not in api_key.dialects:
                self.message = f"This API key may not call the {dialect} API."
                return False
            if api_key.read_only and view.request_writes(request):
                self.message = "This API key is read-only."
                return False
        return True


class StaffOrKeyScope(BasePermission):
    """Staff, or a key granted the scope `scope` (a boolean field of ApiKey)."""

    scope: str

    def has_permission(self, request, view):
        api_key = request_api_key(request)
        staff = request.user.is_authenticated and request.user.is_platform_staff
        return staff or (api_key is not None and getattr(api_key, self.scope))


class AnalyticsReader(StaffOrKeyScope):
    """Course analytics are for staff and for keys with the analytics scope (a trusted dashboard service)."""

    scope = "analytics"
    message = "Course analytics are for staff and for API keys with the analytics scope."


class Ingester(StaffOrKeyScope):
    """Posting tracking events is for staff and for keys with the ingest scope."""

    scope = "ingest"
    message = "Ingest is for staff and for API keys with the ingest scope."


class IsSysadmin(BasePermission):
    """Only a sysadmin (a superuser) may call."""

    message = "Not authorized"

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_sysadmin)
