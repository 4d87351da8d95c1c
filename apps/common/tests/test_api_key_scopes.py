import logging

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.common.models import ApiDialect, ApiKey, api_key_digest
from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for

pytestmark = pytest.mark.django_db


def _create_api_key(capsys, *args) -> str:
    call_command("create_api_key", *args)
    return capsys.readouterr().out.strip().splitlines()[-1]


def _scopes(api_key: ApiKey) -> dict:
    return {
        "dialects": sorted(api_key.dialects),
        "read_only": api_key.read_only,
        "analytics": api_key.analytics,
        "ingest": api_key.ingest,
        "service": api_key.service,
    }


def test_a_new_key_keeps_what_an_ordinary_user_does(capsys):
    _create_api_key(capsys, "--username", "ada")

    assert _scopes(ApiKey.objects.get()) == {
        "dialects": sorted(ApiDialect.values),
        "read_only": False,
        "analytics": False,
        "ingest": False,
        "service": False,
    }


def test_create_api_key_sets_the_scopes_its_flags_name(capsys):
    args = ["--dialects", "edx_analytics, native", "--read-only", "--analytics", "--ingest", "--service"]
    _create_api_key(capsys, "--username", "dashboard", *args)

    assert _scopes(ApiKey.objects.get()) == {
        "dialects": ["edx_analytics", "native"],
        "read_only": True,
        "analytics": True,
        "ingest": True,
        "service": True,
    }


def test_create_api_key_refuses_an_unknown_dialect_and_creates_nothing(capsys):
    with pytest.raises(CommandError, match="xmlrpc"):
        call_command("create_api_key", "--username", "eve", "--dialects", "native,xmlrpc")

    assert not ApiKey.objects.exists()


def test_the_admin_creates_a_scoped_key_and_shows_it_once(client):
    staff, owner = SysadminFactory(), UserFactory(username="reporting")
    client.force_login(staff)

    response = client.post(
        reverse("admin:common_apikey_add"),
        {"user": owner.pk, "name": "dashboards", "dialects": ["edx_analytics"], "analytics": "on", "service": "on"},
        follow=True,
    )

    api_key = ApiKey.objects.get()
    raw_key = next(str(m) for m in get_messages(response.wsgi_request) if "Copy it now" in str(m)).split()[-1]
    page_again = client.get(reverse("admin:common_apikey_change", args=[api_key.pk])).content.decode()
    assert _scopes(api_key) == {
        "dialects": ["edx_analytics"],
        "read_only": False,
        "analytics": True,
        "ingest": False,
        "service": True,
    }
    assert api_key_digest(raw_key) == api_key.digest
    assert raw_key in response.content.decode()
    assert raw_key not in page_again
    assert api_key.prefix in page_again


def test_the_admin_changes_the_scopes_of_a_key(client):
    client.force_login(SysadminFactory())
    api_key_for(UserFactory(username="ops"))
    api_key = ApiKey.objects.get()

    client.post(
        reverse("admin:common_apikey_change", args=[api_key.pk]),
        {"user": api_key.user.pk, "name": "ops", "dialects": ["native", "sunbird"], "read_only": "on"},
    )

    api_key.refresh_from_db()
    assert (sorted(api_key.dialects), api_key.read_only) == (["native", "sunbird"], True)


def test_a_key_is_never_written_to_the_logs(api_client, caplog):
    raw_key = api_key_for(UserFactory())
    caplog.set_level(logging.DEBUG)

    for header in ("HTTP_AUTHORIZATION", "HTTP_X_CKAN_API_KEY", "HTTP_EDX_API_KEY"):
        api_client.get("/api/v1/groups/", **{header: raw_key})
        api_client.get("/api/v1/no-such-route/", **{header: raw_key})
    api_client.post("/api/group/v1/list", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw_key}")

    assert caplog.records
    assert raw_key not in caplog.text
    assert raw_key[12:] not in caplog.text
