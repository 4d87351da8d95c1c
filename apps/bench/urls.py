"""The bench's URLconf (config.settings.bench): Tally's own, plus the bare-Django baseline view."""

from django.http import JsonResponse
from django.urls import include, path

from apps.activity_agg.models import ActivityAggregate
from apps.groups.models import Group, Membership
from apps.groups.selectors import NEWSPARK_COLUMNS


def bare_group(request, pk: int):
    """One row through the ORM straight into JSON: no DRF, no auth, no envelope."""
    row = Group.objects.filter(pk=pk).values("public_id", "name", "status", "created_at").first()
    return JsonResponse(row or {}, status=200 if row else 404)


def bare_activity_agg(request, pk: int):
    """The same members and aggregate rows as the aggregator's endpoint, through the ORM straight into JSON: no
    DRF, no auth, no cache, no envelope."""
    members = {
        row["user_id"]: row
        for row in Membership.objects.filter(group_id=pk, status="active").values(
            "user_id", "user__public_id", "user__first_name", "user__last_name", "role", "status"
        )
    }
    rows = ActivityAggregate.objects.filter(
        activity_id=request.GET["activity_id"], activity_type="Course", user_id__in=list(members)
    ).values_list("user_id", "metric", "value", "last_updated")
    agg: dict[int, list] = {}
    for user_id, metric, value, last_updated in rows:
        moment = int(last_updated.timestamp() * 1000) if last_updated else None
        agg.setdefault(user_id, []).append({"metric": metric, "value": value, "lastUpdatedOn": moment})
    result = [
        {
            "userId": str(members[user_id]["user__public_id"]),
            "name": f"{members[user_id]['user__first_name']} {members[user_id]['user__last_name']}".strip(),
            "role": members[user_id]["role"],
            "status": members[user_id]["status"],
            "agg": metrics,
        }
        for user_id, metrics in agg.items()
    ]
    return JsonResponse({"enrolmentCount": len(result), "members": result})


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
    path("bench/bare/agg/<int:pk>", bare_activity_agg),
    path("bench/bare/newspark/<int:vhost>", bare_newspark_page),
    path("", include("config.urls")),
]
