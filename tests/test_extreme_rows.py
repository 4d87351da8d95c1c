"""Values at the edge of what is accepted are stored and every admin page shows them; values past it are refused
at the boundary (the API, the ingest), so that no stored row can break a page."""

import json

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.common.safe_json import JSON_MAX_DEPTH
from apps.common.testing.factories import SysadminFactory, api_key_for
from apps.course_analytics.selectors import tracking_events_count
from apps.course_analytics.services.ingest import tracking_lines_ingest
from apps.groups.models import OTHER_MAX_CHARS, Group

pytestmark = pytest.mark.django_db

PASSING_TIMES = ["0001-01-01T00:00:00Z", "0001-01-01T05:00:00+05:00", "9999-12-31T23:59:59.999999Z",
                 "9999-12-31T18:59:59-05:00", "0001-01-01T00:00:00-14:00"]  # fmt: skip
REFUSED_TIMES = ["0001-01-01T00:00:00+05:00", "0001-01-01T00:59:59+01:00", "9999-12-31T23:00:00-05:00",
                 "0000-12-31T23:00:00Z", "+10000-01-01T00:00:00Z"]  # fmt: skip


def _event(moment: str, n: int) -> str:
    context = {"course_id": "course-v1:Edge+E1+T", "user_id": n}
    return json.dumps({"event_type": "edx.course.enrollment.activated", "time": moment, "username": f"edge{n}",
                       "context": context, "event": {"mode": "audit"}})  # fmt: skip


def _nested(depth: int) -> dict:
    """An object `depth` levels deep, counting itself."""
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def _sized(chars: int) -> dict:
    """An object whose JSON text is exactly `chars` characters."""
    return {"k": "x" * (chars - len(json.dumps({"k": ""})))}


def test_ingest_refuses_moments_outside_the_years_1_to_9999_in_utc():
    report = tracking_lines_ingest(
        lines=[_event(moment, n) for n, moment in enumerate(PASSING_TIMES + REFUSED_TIMES)], source="edge.log"
    )

    assert (report.added, report.malformed) == (len(PASSING_TIMES), len(REFUSED_TIMES))
    assert tracking_events_count() == len(PASSING_TIMES)


@pytest.mark.parametrize(
    "other",
    [_nested(JSON_MAX_DEPTH + 1), _nested(900), _sized(OTHER_MAX_CHARS + 1), {"k": [[[]] * 10] * 2000}],
    ids=["one-level-too-deep", "900-levels", "one-character-too-long", "long-and-wide"],
)
def test_native_refuses_free_json_a_page_cannot_show(api_client, other):
    key = api_key_for(SysadminFactory())

    response = api_client.post(
        "/api/v1/groups/", {"name": "x", "other": other}, format="json", HTTP_AUTHORIZATION=f"Token {key}"
    )

    assert response.status_code == 400
    assert not Group.objects.exists()


def test_every_admin_page_shows_the_extreme_rows_that_pass(client, api_client):
    staff = SysadminFactory()
    key = api_key_for(staff)
    for name, other in [("deepest", _nested(JSON_MAX_DEPTH)), ("largest", _sized(OTHER_MAX_CHARS))]:
        created = api_client.post(
            "/api/v1/groups/", {"name": name, "other": other}, format="json", HTTP_AUTHORIZATION=f"Token {key}"
        )
        assert created.status_code == 201, created.json()
    tracking_lines_ingest(lines=[_event(moment, n) for n, moment in enumerate(PASSING_TIMES)], source="edge.log")
    client.force_login(staff)

    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == 200, model
        for pk in model_admin.get_queryset(changelist.wsgi_request).values_list("pk", flat=True)[:20]:
            assert client.get(reverse("admin:{}_{}_change".format(*info), args=[pk])).status_code == 200, (model, pk)
    assert Group.objects.count() == 2
    assert tracking_events_count() == len(PASSING_TIMES)
