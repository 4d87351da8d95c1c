"""Every API route in one generated matrix: authentication, not-found, CSV where offered, and its query count
against the committed baseline `tests/query_counts.json` (as NetBox pins its query counts).

The endpoints are generated from the URLconf and the registries behind it (the routers, the v0 course endpoints,
the CKAN actions); only the Sunbird operations are written out. A route that is in the URLconf but not in the matrix
fails, and so does an endpoint whose query count is not in the baseline. After adding routes or changing what an
endpoint queries, regenerate the baseline and review its diff:

    TALLY_QUERY_COUNTS_UPDATE=1 .venv/bin/pytest tests/test_endpoint_matrix.py
"""

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.common.api.ckan import ACTIONS
from apps.common.api.dialects import Dialect, DialectViewMixin
from apps.common.api.edx_analytics import EdxCsvRenderer
from apps.common.api.sunbird import Sunbird
from apps.common.api.sunbird_agg import SunbirdAggregator
from apps.common.api.sunbird_platform import SunbirdPlatform
from apps.common.models import ApiKey
from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for
from apps.common.testing.wire import api_routes, error_shape_holds
from apps.course_analytics.api.urls import COURSE_ENDPOINTS
from apps.groups.api.urls import router
from apps.groups.tests.factories import (
    ActivityFactory,
    CommentFactory,
    GroupFactory,
    MediaFactory,
    MembershipFactory,
    default_forms_ensure,
)
from tests.edx_analytics.conftest import COURSE, reference_rows  # noqa: F401  (the v0 rows every endpoint reads)

BASELINE = Path(__file__).with_name("query_counts.json")
# The baseline is PostgreSQL's. A new group's tree numbers take the vhost's advisory lock there (apps.groups.tree),
# and a session ingest the lock of the sessions' columnar copy: statements SQLite, which serialises writers itself,
# does not need.
SQLITE_FEWER = {"groups-api:sunbird-create": 1, "datasets-api:sessions": 1}
UPDATE = os.environ.get("TALLY_QUERY_COUNTS_UPDATE") == "1"
# Routes that are not API endpoints of a dialect: the schema and its viewers, and DRF's index of the routers.
NOT_ENDPOINTS = {"schema", "swagger-ui", "redoc", "groups-api:api-root"}


@dataclass
class World:
    """The data every endpoint is called against: one group with a member and an activity, and the rollups of the
    v0 contract tests' course."""

    actor: Any
    actor_key: str
    app_key: str
    member: Any
    instances: dict[str, Any]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Any = None
    accept: str | None = None


@dataclass(frozen=True)
class Endpoint:
    key: str
    call: Callable[[World], Call]
    not_found: Callable[[World], Call] | None = None
    not_found_status: int = 404
    csv: bool = False
    anonymous_allowed: bool = False
    route: str = field(default="")

    def __post_init__(self):
        object.__setattr__(self, "route", self.route or self.key)


API_ROUTES = {name: view for name, _path, view in api_routes() if name not in NOT_ENDPOINTS}


def _random_id() -> str:
    return str(uuid.uuid4())


def _sunbird(name: str, method: str, path: str, body: Callable[[World, str], dict] | None, **options) -> Endpoint:
    """A Sunbird operation; `body(world, group_id)` builds its request, and not-found names a group that is not."""

    def call(world: World, group_id: str | None = None) -> Call:
        group_id = group_id or str(world.instances["group"].public_id)
        return Call(method, path.format(group=group_id), {"request": body(world, group_id)} if body else None)

    not_found = (lambda world: call(world, _random_id())) if options.pop("group_not_found", False) else None
    return Endpoint(f"groups-api:{name}", call, not_found=not_found, not_found_status=400, **options)


def _form_request(subtype: str) -> dict:
    return {"request": {"type": "group", "subType": subtype, "action": "list"}}


SUNBIRD_ENDPOINTS = [
    _sunbird("sunbird-create", "post", "/api/group/v1/create", lambda world, group: {"name": "New"}),
    _sunbird("sunbird-read", "get", "/api/group/v1/read/{group}?fields=members,activities", None),
    _sunbird(
        "sunbird-update",
        "patch",
        "/api/group/v1/update",
        lambda world, group: {"groupId": group, "name": "Renamed"},
        group_not_found=True,
    ),
    _sunbird(
        "sunbird-list",
        "post",
        "/api/group/v1/list",
        lambda world, group: {"filters": {"userId": str(world.member.public_id)}},
    ),
    _sunbird(
        "sunbird-delete", "post", "/api/group/v1/delete", lambda world, group: {"groupId": group}, group_not_found=True
    ),
    _sunbird(
        "sunbird-membership-update",
        "patch",
        "/api/group/membership/v1/update",
        lambda world, group: {"userId": str(world.actor.public_id), "groups": [{"groupId": group, "visited": True}]},
    ),
    Endpoint(
        "groups-api:sunbird-form-read",
        lambda world: Call("post", "/api/data/v1/form/read", _form_request("supported_activities")),
        not_found=lambda world: Call("post", "/api/data/v1/form/read", _form_request("no_such_form")),
    ),
]


def _router_endpoints() -> Iterator[Endpoint]:
    for prefix, viewset, basename in router.registry:
        lookup_field, lookup_kwarg = viewset.lookup_field, viewset.lookup_url_kwarg or viewset.lookup_field

        def detail(world: World, *, missing: bool = False, basename=basename, field=lookup_field, kwarg=lookup_kwarg):
            value = getattr(world.instances[basename], field)
            unknown = _random_id() if isinstance(value, uuid.UUID) else 10**9
            return Call("get", reverse(f"groups-api:{basename}-detail", kwargs={kwarg: unknown if missing else value}))

        yield Endpoint(f"groups-api:{basename}-list", lambda world, prefix=prefix: Call("get", f"/api/v1/{prefix}/"))
        yield Endpoint(
            f"groups-api:{basename}-detail", detail, not_found=lambda world, d=detail: d(world, missing=True)
        )


def _course_endpoints() -> Iterator[Endpoint]:
    for endpoint, view in COURSE_ENDPOINTS.items():
        name = f"course_analytics-api:{endpoint.replace('/', '_')}"
        yield Endpoint(
            name,
            lambda world, endpoint=endpoint: Call("get", f"/api/v0/courses/{COURSE}/{endpoint}/"),
            not_found=lambda world, endpoint=endpoint: Call(
                "get", f"/api/v0/courses/course-v1:No+Such+Run/{endpoint}/"
            ),
            csv=EdxCsvRenderer in view.renderer_classes,
        )


def _aggregator_endpoints() -> Iterator[Endpoint]:
    """The activity aggregator's two operations (Sunbird-style bodies) and its native read; an unknown group is a
    404 in each dialect."""

    def body(world: World, group_id: str | None = None, **more) -> dict:
        return {"request": {"groupId": group_id or str(world.instances["group"].public_id), **more}}

    activity = {"activityId": "course-v1:Matrix+M1+2026", "activityType": "Course"}
    yield Endpoint(
        "activity_agg-api:sunbird-activity-agg",
        lambda world: Call("post", "/api/data/v1/group/activity/agg", body(world, **activity)),
        not_found=lambda world: Call("post", "/api/data/v1/group/activity/agg", body(world, _random_id(), **activity)),
    )
    yield Endpoint(
        "activity_agg-api:sunbird-group-agg",
        lambda world: Call("post", "/api/data/v1/group/agg", body(world)),
        not_found=lambda world: Call("post", "/api/data/v1/group/agg", body(world, _random_id())),
    )
    native = "/api/v1/groups/{}/activity-aggregates/"
    yield Endpoint(
        "activity_agg-api:group-activity-aggregates",
        lambda world: Call("get", native.format(world.instances["group"].public_id)),
        not_found=lambda world: Call("get", native.format(_random_id())),
    )


def _group_count_data(world: World) -> dict:
    today = timezone.now().date().isoformat()
    query = [{"query_group": [{"state": "active"}, {"title": "Matrix"}]}]
    return {"query": query, "start_date": "2020-01-01", "end_date": today, "date_field": "created"}


# The data each CKAN action is called with (a newly registered action needs an entry).
CKAN_ACTION_DATA: dict[str, Callable[[World], dict]] = {
    "help_show": lambda world: {"name": "help_show"},
    "get_group_count": _group_count_data,
}
# The data that makes an action answer Not Found, for the actions that can.
CKAN_ACTION_NOT_FOUND: dict[str, Callable[[World], dict]] = {"help_show": lambda world: {"name": "no_such_action"}}


def _ckan_endpoints() -> Iterator[Endpoint]:
    for route, prefix in (
        ("stats-api:ckan-action", "/api/action/"),
        ("stats-api:ckan-action-versioned", "/api/3/action/"),
    ):
        for name, action in ACTIONS.items():
            data = CKAN_ACTION_DATA.get(name, lambda world, name=name: pytest.fail(f"no CKAN_ACTION_DATA for {name}"))
            missing = CKAN_ACTION_NOT_FOUND.get(name)
            yield Endpoint(
                f"{route}[{name}]",
                lambda world, path=prefix + name, data=data: Call("post", path, data(world)),
                not_found=(lambda world, path=prefix + name, data=missing: Call("post", path, data(world)))
                if missing
                else None,
                anonymous_allowed=not action.sysadmin_only,
                route=route,
            )


ENDPOINTS = [
    *SUNBIRD_ENDPOINTS,
    *_router_endpoints(),
    Endpoint("common-api:whoami", lambda world: Call("get", "/api/v1/auth/whoami/")),
    *_course_endpoints(),
    Endpoint("course_analytics-api:ingest-events", lambda world: Call("post", "/api/v0/ingest/events", [])),
    Endpoint("datasets-api:sessions", lambda world: Call("post", "/api/v1/datasets/sessions/")),
    *_aggregator_endpoints(),
    *_ckan_endpoints(),
]
ENDPOINT_IDS = [endpoint.key for endpoint in ENDPOINTS]


@pytest.fixture
def world(db, reference_rows) -> World:  # noqa: F811  (the fixture imported above)
    actor = SysadminFactory(username="matrix-admin", first_name="Matrix", last_name="Admin")
    member = UserFactory(username="matrix-member")
    group = GroupFactory(name="Matrix", created_by=actor, created_at=datetime(2024, 1, 1, tzinfo=UTC))
    MembershipFactory(group=group, user=actor, role="admin")
    membership = MembershipFactory(group=group, user=member)
    activity = ActivityFactory(group=group)
    world = World(
        actor=actor,
        actor_key=api_key_for(actor),
        app_key=api_key_for(UserFactory(username="matrix-portal")),
        member=member,
        instances={
            "group": group,
            "membership": membership,
            "activity": activity,
            "media": MediaFactory(group=group, created_by=member),
            "comment": CommentFactory(group=group, created_by=member),
        },
    )
    default_forms_ensure()
    # Keys used a moment ago: the counts are those of a client that calls often, not of a key's first use.
    ApiKey.objects.update(last_used=timezone.now())
    return world


def _dialect(endpoint: Endpoint) -> type[Dialect]:
    return API_ROUTES[endpoint.route].dialect


def _request(call: Call, headers: dict | None = None):
    client = APIClient()
    extra = dict(headers or {})
    if call.accept:
        extra["HTTP_ACCEPT"] = call.accept
    if call.body is None:
        return getattr(client, call.method)(call.path, **extra)
    return getattr(client, call.method)(call.path, json.dumps(call.body), content_type="application/json", **extra)


def _credentials(endpoint: Endpoint, world: World) -> dict:
    if _dialect(endpoint) in (Sunbird, SunbirdPlatform, SunbirdAggregator):
        return {"HTTP_AUTHORIZATION": f"Bearer {world.app_key}", "HTTP_X_AUTHENTICATED_USER_TOKEN": world.actor_key}
    return {"HTTP_AUTHORIZATION": f"Token {world.actor_key}"}


def test_every_api_route_is_in_the_matrix_and_names_its_dialect():
    in_matrix = {endpoint.route for endpoint in ENDPOINTS}

    assert set(API_ROUTES) - in_matrix == set(), "add these routes to the endpoint matrix"
    assert in_matrix - set(API_ROUTES) == set()
    assert [name for name, view in API_ROUTES.items() if not issubclass(view, DialectViewMixin)] == []


def test_every_endpoint_has_a_query_count_in_the_baseline():
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}

    assert UPDATE or set(ENDPOINT_IDS) - set(baseline) == set(), "regenerate with TALLY_QUERY_COUNTS_UPDATE=1"
    assert UPDATE or set(baseline) - set(ENDPOINT_IDS) == set(), "routes gone: regenerate the baseline"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_without_credentials_the_endpoint_refuses_in_its_dialects_shape(endpoint, world):
    response = _request(endpoint.call(world))

    if endpoint.anonymous_allowed:
        assert response.status_code == 200
    else:
        assert response.status_code in (401, 403)
        assert error_shape_holds(_dialect(endpoint), response.json())


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if e.not_found], ids=[e.key for e in ENDPOINTS if e.not_found]
)
def test_an_unknown_object_is_not_found_in_the_dialects_shape(endpoint, world):
    response = _request(endpoint.not_found(world), _credentials(endpoint, world))

    assert response.status_code == endpoint.not_found_status
    assert error_shape_holds(_dialect(endpoint), response.json())


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.csv], ids=[e.key for e in ENDPOINTS if e.csv])
def test_csv_is_served_where_offered(endpoint, world):
    call = endpoint.call(world)
    response = _request(Call(call.method, call.path, call.body, accept="text/csv"), _credentials(endpoint, world))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode().splitlines()[0]
    assert response["Content-Disposition"].startswith("attachment; filename=edX-DemoX-Demo_2014--")


@pytest.fixture(scope="module")
def measured_counts() -> Iterator[dict[str, int]]:
    """Counts measured in this run; written to the baseline at the end when TALLY_QUERY_COUNTS_UPDATE=1."""
    counts: dict[str, int] = {}
    yield counts
    if UPDATE and counts:
        merged = {**(json.loads(BASELINE.read_text()) if BASELINE.exists() else {}), **counts}
        kept = {key: merged[key] for key in sorted(merged) if key in ENDPOINT_IDS}
        BASELINE.write_text(json.dumps(kept, indent=2) + "\n")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_the_query_count_is_the_baseline(endpoint, world, measured_counts):
    call, headers = endpoint.call(world), _credentials(endpoint, world)
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    # The audit log looks up content types through a per-process cache: empty it, so that the count does not
    # depend on which tests ran before.
    ContentType.objects.clear_cache()

    with CaptureQueriesContext(connection) as queries:
        response = _request(call, headers)
    measured_counts[endpoint.key] = len(queries)

    assert response.status_code == 200, response.content
    expected = baseline.get(endpoint.key, 0) - SQLITE_FEWER.get(endpoint.key, 0) * (connection.vendor == "sqlite")
    assert UPDATE or len(queries) == expected, [query["sql"] for query in queries]
