from rest_framework.permissions import BasePermission


class IsSysadmin(BasePermission):
    """Only a sysadmin (a superuser) may call."""

    message = "Not authorized"

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_sysadmin)
