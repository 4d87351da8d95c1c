"""Errors raised by services and selectors. Each API dialect renders them in its own error shape."""


class ServiceError(Exception):
    """A request that the rules refuse. `code` is stable and machine-readable; `field` names the input at fault."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field


class NotFoundError(ServiceError):
    status_code = 404
    default_code = "not_found"


class PermissionDeniedError(ServiceError):
    status_code = 403
    default_code = "permission_denied"


class ConflictError(ServiceError):
    status_code = 409
    default_code = "conflict"
