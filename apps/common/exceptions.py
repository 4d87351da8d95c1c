"""Errors raised by services and selectors. They know nothing of HTTP: each API dialect maps them to its own status
and error shape (`apps.common.api.dialects.Dialect.status_of`)."""


class ServiceError(Exception):
    """A request that the rules refuse. `code` is stable and machine-readable; `field` names the input at fault."""

    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field


class NotFoundError(ServiceError):
    default_code = "not_found"


class PermissionDeniedError(ServiceError):
    default_code = "permission_denied"


class ConflictError(ServiceError):
    default_code = "conflict"
