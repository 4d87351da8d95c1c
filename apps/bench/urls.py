"""The bench's URLconf: Tally's own, plus the bare-Django baseline view (served only when the bench starts
gunicorn with TALLY_ROOT_URLCONF=apps.bench.urls)."""

from django.http import JsonResponse
from django.urls import include, path

from apps.groups.models import Group
from apps.groups.selectors import NEWSPARK_COLUMNS


def bare_group(request, pk: int):
    """One row through the ORM straight into JSON: no DRF, no auth, no envelope."""
    row = Group.objects.filter(pk=pk).values("public_id", "name", "status", "created_at").first()
    return JsonResponse(row or {}, status=200 if row else 404)


def bare_newspark_page(request, vhost: int):
    """The getGroups default page (accepted groups of the vhost, newest first) through the ORM straight into JSON:
    the same columns, no DRF, no argument parsing, no envelope."""
    page = int(request.GET.get("page", 0))
    groups = (
        Group.objects.filter(vhost=vhost, moderation_status="accepted", group_type=1)
        .exclude(status="inactive")
        .order_by("-created_at", "id")
        .values(*NEWSPARK_COLUMNS)[page * 100 : page * 100 + 100]
    )
    return JsonResponse({"groups": list(groups)})


urlpatterns = [
    path("bench/bare/group/<int:pk>", bare_group),
    path("bench/bare/newspark/<int:vhost>", bare_newspark_page),
    path("", include("config.urls")),
]
