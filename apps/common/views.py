from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from rest_framework.exceptions import NotFound

from apps.common.api.dialects import route_error_response
from apps.common.selectors import broker_check, database_check


@never_cache
@require_safe
def healthz(request):
    """Reachability of the database and the Celery broker: 200 when both answer, 503 naming the failing part."""
    failures = {name: reason for name, reason in (("database", database_check()), ("broker", broker_check())) if reason}
    checks = {name: ("down" if name in failures else "ok") for name in ("database", "broker")}
    body = {"status": "fail" if failures else "ok", "checks": checks}
    if failures:
        body["errors"] = failures
    return JsonResponse(body, status=503 if failures else 200)


def not_found(request, exception=None):
    """404 for a URL that matches no route: in the shape of the dialect that owns the path (what its clients
    parse; the native JSON for the rest of /api/), Django's page elsewhere."""
    return route_error_response(request, NotFound()) or defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error.", "code": "error"}, status=500)
    return defaults.server_error(request)
