"""The bench's URLconf (config.settings.bench): Tally's own, plus the bare-Django baseline view."""

from django.http import JsonResponse
from django.urls import include, path

from apps.groups.models import Group


def bare_group(request, pk: int):
    """One row through the ORM straight into JSON: no DRF, no auth, no envelope."""
    row = Group.objects.filter(pk=pk).values("public_id", "name", "status", "created_at").first()
    return JsonResponse(row or {}, status=200 if row else 404)


urlpatterns = [
    path("bench/bare/group/<int:pk>", bare_group),
    path("", include("config.urls")),
]
