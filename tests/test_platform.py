"""Platform-wide behaviour: health, admin, slashes, request limits and OpenAPI."""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from apps.common.testing.factories import SysadminFactory


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
@override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_healthz_names_the_broker_when_it_is_down(client):
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"] == {"database": "ok", "broker": "down"}
    assert set(body["errors"]) == {"broker"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/", "/api/redoc/", "/api/schema/"])
def test_public_pages_answer_without_login(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_docs_load_their_assets_locally_not_from_a_cdn(client):
    html = client.get("/api/docs/").content.decode()

    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html


@pytest.mark.django_db
@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda model: model._meta.label)
def test_every_admin_changelist_and_add_page_opens(client, model):
    client.force_login(SysadminFactory())
    info = (model._meta.app_label, model._meta.model_name)

    assert client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200
    assert client.get(reverse("admin:{}_{}_changelist".format(*info)), {"q": "x"}).status_code == 200
    add = client.get(reverse("admin:{}_{}_add".format(*info)))
    assert add.status_code in (200, 403)


@pytest.mark.django_db
def test_get_without_slash_redirects_but_post_is_never_redirected(client):
    assert client.get("/api/v1/auth/whoami").status_code == 301
    assert client.post("/api/v1/auth/whoami", data="{}", content_type="application/json").status_code == 404


@pytest.mark.django_db
@override_settings(REQUEST_MAX_BYTES=1000)
def test_a_body_over_the_limit_is_refused_before_any_view(client):
    response = client.post("/api/v1/auth/whoami/", data="x" * 1001, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_openapi_schema_has_no_warnings(tmp_path):
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yml"))
