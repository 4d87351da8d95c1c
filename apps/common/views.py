from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

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
    """404 for a URL that matches no route: JSON under /api/ (what API clients parse), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error.", "code": "error"}, status=500)
    return defaults.server_error(request)
