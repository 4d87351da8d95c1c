import logging
import time

from auditlog.middleware import AuditlogMiddleware
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.http import JsonResponse
from django.middleware.common import CommonMiddleware
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject
from rest_framework import exceptions

from apps.common.api.dialects import ServiceUnavailable, route_error_response
from apps.common.api.parsers import BodyRefused, chunked_body_install, is_chunked
from apps.common.models import ApiKey

logger = logging.getLogger("tally.request")


class BodyRefusedError(exceptions.APIException):
    """A body the server will not read (411 chunked beyond reading, 413 too large), as DRF error for the dialects."""

    def __init__(self, detail: str, *, code: str, status: int):
        super().__init__(detail, code)
        self.status_code = status


class SafeMethodSlashMiddleware(CommonMiddleware):
    """CommonMiddleware whose APPEND_SLASH redirect applies to GET and HEAD only.

    A redirected POST loses its body (clients such as ckanapi refuse to follow it), so an API write to a path
    without its slash gets that route's own answer, or a 404, never a 301.
    """

    def should_redirect_with_slash(self, request):
        return request.method in ("GET", "HEAD") and super().should_redirect_with_slash(request)


class RequestLogMiddleware:
    """One structured log line per request: method, path, status, duration and the authenticated user id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        logger.info(
            "%s %s %s %sms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": getattr(user, "pk", None),
            },
        )
        return response


class RequestSizeLimitMiddleware:
    """Refuses a request body over the limit with 413 before anything reads it, and reads a chunked body in full.

    The limit is settings.REQUEST_MAX_BYTES; REQUEST_MAX_BYTES_BY_PATH gives larger limits to path prefixes
    (batch ingest endpoints) that stream their body. A body sent with `Transfer-Encoding: chunked` has no
    Content-Length, which Django reads as an empty body: see apps.common.api.parsers.chunked_body_install.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = self._limit_for(request.path)
        try:
            if is_chunked(request.META):
                chunked_body_install(request, limit=limit)
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except BodyRefused as exc:
            return self._refusal(request, BodyRefusedError(exc.message, code=exc.code, status=exc.status))
        except ValueError:
            return self._refusal(request, exceptions.ParseError("Invalid Content-Length header.", code="bad_request"))
        if length > limit:
            message = f"Request body too large: {length} bytes, limit {limit}."
            return self._refusal(request, BodyRefusedError(message, code="request_too_large", status=413))
        return self.get_response(request)

    @staticmethod
    def _refusal(request, error: exceptions.APIException):
        """The refusal in the shape of the dialect that owns the path; the native JSON outside every dialect."""
        return route_error_response(request, error) or JsonResponse(
            {"detail": str(error.detail), "code": error.get_codes()}, status=error.status_code
        )

    @staticmethod
    def _limit_for(path: str) -> int:
        for prefix, limit in settings.REQUEST_MAX_BYTES_BY_PATH.items():
            if path.startswith(prefix):
                return limit
        return settings.REQUEST_MAX_BYTES


class PrivateResponseMiddleware:
    """An answer to an authenticated request is for that user alone (memberships, keys, counts): no shared or
    browser cache may keep it, unless the view said otherwise."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response


class AtomicWriteMiddleware:
    """Every write request (any method but GET, HEAD, OPTIONS) is one transaction, committed only when the answer
    is a success: a refusal (4xx) or a failure (5xx, an exception) leaves no row behind, whichever dialect answered
    it and whether or not its error handler raised. Work queued with transaction.on_commit runs only after a
    commit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return self.get_response(request)
        try:
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code >= 400:
                    transaction.set_rollback(True)
        except (OperationalError, InterfaceError) as exc:
            # The database went away before the transaction began or as it committed: whether the write is in is
            # not known, and the client may make it again (writes are idempotent on their keys where it matters).
            logger.warning("database unavailable to a write: %s", exc)
            unavailable = ServiceUnavailable()
            response = route_error_response(request, unavailable) or JsonResponse(
                {"detail": str(unavailable.detail), "code": unavailable.default_code}, status=unavailable.status_code
            )
            response["Retry-After"] = str(ServiceUnavailable.retry_after_seconds)
        return response


class AuditMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, told who wrote only when a row is written.

    An API request is authenticated by its view (DRF), after every middleware has run, so the actor and the API
    key are read lazily from the request, which DRF updates. The address is the peer's: X-Forwarded-For is
    anyone's to write, and a proxy in front is trusted only through settings.AUDIT_TRUSTED_PROXY_HEADER.
    """

    @staticmethod
    def _get_remote_addr(request):
        header = settings.AUDIT_TRUSTED_PROXY_HEADER
        forwarded = request.META.get(header, "") if header else ""
        # The proxy appends the peer it saw: the last entry is its own, the ones before it are the client's to write.
        return forwarded.split(",")[-1].strip() or request.META.get("REMOTE_ADDR")

    @staticmethod
    def _get_actor(request):
        def actor():
            user = getattr(request, "user", None)
            return user if user is not None and user.is_authenticated else None

        return SimpleLazyObject(actor)

    def get_extra_data(self, request):
        def api_key():
            auth = getattr(request, "auth", None)
            return auth if isinstance(auth, ApiKey) else None

        return super().get_extra_data(request) | {"api_key": api_key}
