"""Errors raised before any view runs (a URL under a dialect's prefix that matches no route, a body the size limit
refuses) are answered in the shape of the dialect that owns the URL (apps.common.api.dialects.route_error_response),
so that each dialect's clients can read them; and every Sunbird-family route answers a bad request with the
`params.err` and `params.errmsg` that Sunbird's own client reads on every 4xx."""

import re
from dataclasses import dataclass

import pytest
from django.test import override_settings

from apps.common.api.ckan import CKAN
from apps.common.api.dialects import Dialect, DialectViewMixin, dialect_classes
from apps.common.api.edx_analytics import EdxAnalytics
from apps.common.api.learnosity import Learnosity, LearnosityFiles
from apps.common.api.native import Native
from apps.common.api.newspark import Newspark
from apps.common.api.sunbird import Sunbird
from apps.common.api.sunbird_agg import SunbirdAggregator
from apps.common.api.sunbird_platform import SunbirdPlatform
from apps.common.testing.factories import SysadminFactory, api_key_for
from apps.common.testing.wire import api_routes, chunked_send, error_shape_holds
from apps.groups.models import Group

pytestmark = pytest.mark.django_db

SUNBIRD_FAMILY = (Sunbird, SunbirdPlatform, SunbirdAggregator)
LIMIT = 500
COURSE = "course-v1:TallyX+MATH101+2026_T1"


@dataclass(frozen=True)
class Owner:
    """A dialect, a path under its prefix that matches no route, and one of its routes with the method it serves."""

    dialect: type[Dialect]
    unmatched: str
    route: str
    method: str = "post"
    reads_body: bool = True

    def __str__(self) -> str:
        return self.dialect.__name__


OWNERS = [
    Owner(Native, "/api/v1/unknown/", "/api/v1/groups/"),
    Owner(Native, "/api/unknown", "/api/v1/datasets/sessions/"),
    Owner(Sunbird, "/api/group/v1/unknown", "/api/group/v1/create"),
    Owner(Sunbird, "/api/group/membership/v1/unknown", "/api/group/membership/v1/update"),
    Owner(SunbirdPlatform, "/api/data/v1/form/nope", "/api/data/v1/form/read"),
    Owner(SunbirdAggregator, "/api/data/v1/group/x", "/api/data/v1/group/activity/agg"),
    Owner(CKAN, "/api/3/action", "/api/3/action/get_group_count"),
    Owner(CKAN, "/api/action/get_group_count/extra", "/api/action/get_group_count"),
    Owner(Native, "/api/v0/ingest/unknown", "/api/v0/ingest/events"),
    Owner(EdxAnalytics, "/api/v0/unknown", f"/api/v0/courses/{COURSE}/enrollment/", "get", reads_body=False),
    Owner(Newspark, "/services/rest/groups/unknownMethod", "/services/json/groups/getGroups", "get", reads_body=False),
    Owner(Learnosity, "/v1/reports/unknown", "/v1/reports/datasets"),
    Owner(Learnosity, "/latest/unknown", "/jobs"),
    Owner(LearnosityFiles, "/datasets/files/unknown", "/datasets/files/in/token", "put"),
]
# Newspark answers XML unless JSON is asked for; every other dialect answers JSON anyway.
JSON = {"HTTP_ACCEPT": "application/json"}


def test_every_dialect_owns_a_prefix_in_the_table():
    declared = {klass for klass in dialect_classes() if klass.url_prefixes}

    assert declared == {owner.dialect for owner in OWNERS}


@pytest.mark.parametrize("owner", OWNERS, ids=str)
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unmatched_url_is_a_404_in_the_owning_dialects_shape(client, owner, method):
    response = getattr(client, method)(owner.unmatched, **JSON)

    assert response.status_code == 404
    assert error_shape_holds(owner.dialect, response.json())


@pytest.mark.parametrize("owner", OWNERS, ids=str)
@pytest.mark.parametrize("where", ["unmatched", "route"])
def test_a_body_over_the_limit_is_a_413_in_the_owning_dialects_shape(client, owner, where):
    body = b"x" * (LIMIT + 1)

    with override_settings(REQUEST_MAX_BYTES=LIMIT, REQUEST_MAX_BYTES_BY_PATH={}):
        response = client.generic(owner.method.upper(), getattr(owner, where), body, "application/json", **JSON)

    assert response.status_code == 413
    assert error_shape_holds(owner.dialect, response.json())
    assert not Group.objects.exists()


@pytest.mark.parametrize("owner", [owner for owner in OWNERS if owner.reads_body], ids=str)
@pytest.mark.parametrize("where", ["unmatched", "route"])
def test_a_chunked_body_the_server_did_not_decode_is_a_411_in_the_owning_dialects_shape(client, owner, where):
    response = chunked_send(client, owner.method, getattr(owner, where), b"{}", decoded_by_server=False, **JSON)

    assert response.status_code == 411
    assert error_shape_holds(owner.dialect, response.json())


def test_a_url_outside_every_dialect_keeps_djangos_page(client):
    response = client.get("/no/such/page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def _sunbird_family_routes() -> list[tuple[str, str, str]]:
    """(name, path, method) of every route whose view speaks a Sunbird-family dialect; path arguments get a value
    that names no group."""
    routes = []
    for name, path, view in api_routes():
        if view is not None and issubclass(view, DialectViewMixin) and view.dialect in SUNBIRD_FAMILY:
            method = "post" if hasattr(view, "post") else "get"
            routes.append((name, "/" + re.sub(r"<[^>]+>", "not-a-group", path).rstrip("$"), method))
    return routes


SUNBIRD_FAMILY_ROUTES = _sunbird_family_routes()


@pytest.fixture
def sunbird_headers():
    key = api_key_for(SysadminFactory())
    return {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_X_AUTHENTICATED_USER_TOKEN": key}


def test_every_sunbird_family_dialect_has_a_route():
    served = {view.dialect for _name, _path, view in api_routes() if view and getattr(view, "dialect", None)}

    assert served >= set(SUNBIRD_FAMILY)
    assert len(SUNBIRD_FAMILY_ROUTES) >= len(SUNBIRD_FAMILY)


@pytest.mark.parametrize(("name", "path", "method"), SUNBIRD_FAMILY_ROUTES, ids=[r[0] for r in SUNBIRD_FAMILY_ROUTES])
@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"request": "nope"}', b'{"request": {}}'])
def test_every_sunbird_family_route_names_its_error_in_params(client, sunbird_headers, name, path, method, body):
    if method == "get":
        response = client.get(path, **sunbird_headers)
    else:
        response = client.post(path, body, content_type="application/json", **sunbird_headers)

    assert 400 <= response.status_code < 500
    params = response.json()["params"]
    assert isinstance(params["err"], str)
    assert params["err"]
    assert isinstance(params["errmsg"], str)
    assert params["errmsg"]


@pytest.mark.parametrize(("query", "media_type"), [("", "application/xml"), ("?format=json", "application/json")])
def test_newspark_answers_an_unmatched_url_in_xml_unless_json_is_asked_for(client, query, media_type):
    response = client.get(f"/services/json/groups/unknownMethod{query}")

    assert response.status_code == 404
    assert response["Content-Type"].startswith(media_type)
    assert b"not_found" in response.content
