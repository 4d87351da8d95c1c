"""Every API write is one transaction (apps.common.middleware.AtomicWriteMiddleware): whatever way a request is
refused or fails after writing, no row stays; a success commits. Values the service would refuse are 400s."""

import pytest
from django.http import HttpResponse, JsonResponse
from django.test import override_settings
from django.urls import path
from rest_framework import exceptions
from rest_framework.decorators import api_view, authentication_classes, permission_classes

from apps.common.exceptions import ConflictError
from apps.common.testing.factories import UserFactory, api_key_for
from apps.groups.models import Group, GroupStatus
from apps.groups.tests.factories import GroupFactory

pytestmark = pytest.mark.django_db


def _write(request) -> None:
    GroupFactory(name="written before the failure")


@api_view(["POST", "PUT", "PATCH", "DELETE"])
@authentication_classes([])
@permission_classes([])
def refused_by_drf(request):
    _write(request)
    raise exceptions.ValidationError({"name": "refused after writing"})


@api_view(["POST", "PUT", "PATCH", "DELETE"])
@authentication_classes([])
@permission_classes([])
def refused_by_service(request):
    _write(request)
    raise ConflictError("refused after writing")


def answered_with_an_error(request):
    """As the CKAN dialect answers: an error response returned, no exception raised."""
    _write(request)
    return JsonResponse({"success": False}, status=409)


def crashed(request):
    _write(request)
    raise RuntimeError("a bug after writing")


def succeeded(request):
    _write(request)
    return HttpResponse(status=201)


urlpatterns = [
    path("drf", refused_by_drf),
    path("service", refused_by_service),
    path("answered", answered_with_an_error),
    path("crashed", crashed),
    path("succeeded", succeeded),
]


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(("route", "status"), [("drf", 400), ("service", 409), ("answered", 409), ("crashed", 500)])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_write_that_is_refused_or_fails_leaves_no_row(client, route, status, method):
    client.raise_request_exception = False

    response = getattr(client, method)(f"/{route}")

    assert response.status_code == status
    assert not Group.objects.exists()


@override_settings(ROOT_URLCONF=__name__)
def test_a_write_that_succeeds_commits(client):
    assert client.post("/succeeded").status_code == 201
    assert Group.objects.count() == 1


@pytest.fixture
def owner():
    user = UserFactory()
    return user, {"HTTP_AUTHORIZATION": f"Token {api_key_for(user)}"}


@pytest.mark.parametrize("status", ["inactive", "deleted", "", None, 1, "ACTIVE"])
def test_native_create_refuses_a_status_it_cannot_create_with_a_400(api_client, owner, status):
    response = api_client.post("/api/v1/groups/", {"name": "x", "status": status}, format="json", **owner[1])

    assert response.status_code == 400
    assert response.json()["errors"].keys() == {"status"}
    assert not Group.objects.exists()


@pytest.mark.parametrize("status", ["inactive", "deleted", "", None])
def test_native_patch_refuses_a_status_it_cannot_set_and_keeps_the_group(api_client, owner, status):
    created = api_client.post("/api/v1/groups/", {"name": "x"}, format="json", **owner[1]).json()

    response = api_client.patch(f"/api/v1/groups/{created['id']}/", {"status": status}, format="json", **owner[1])

    assert response.status_code == 400
    assert Group.objects.get().status == GroupStatus.ACTIVE


@pytest.mark.parametrize("status", ["active", "suspended"])
def test_native_patch_sets_the_statuses_it_offers(api_client, owner, status):
    created = api_client.post("/api/v1/groups/", {"name": "x"}, format="json", **owner[1]).json()

    response = api_client.patch(f"/api/v1/groups/{created['id']}/", {"status": status}, format="json", **owner[1])

    assert (response.status_code, response.json()["status"]) == (200, status)
