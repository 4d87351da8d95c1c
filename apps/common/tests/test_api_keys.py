from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.common.models import ApiKey, api_key_digest
from apps.common.services import api_key_create, api_key_revoke
from apps.common.testing.factories import UserFactory, api_key_for

WHOAMI = "/api/v1/auth/whoami/"
HEADER_FORMS = [
    ("HTTP_X_CKAN_API_KEY", "{key}"),
    ("HTTP_EDX_API_KEY", "{key}"),
    ("HTTP_AUTHORIZATION", "{key}"),
    ("HTTP_AUTHORIZATION", "Token {key}"),
    ("HTTP_AUTHORIZATION", "Bearer {key}"),
]


def _create_api_key(capsys, *args):
    call_command("create_api_key", *args)
    lines = capsys.readouterr().out.strip().splitlines()
    return lines[0], lines[-1]


@pytest.mark.django_db
@pytest.mark.parametrize(("header", "template"), HEADER_FORMS)
def test_create_api_key_prints_a_key_that_authenticates_through_each_header(capsys, api_client, header, template):
    # given a key made by the management command
    user_line, raw_key = _create_api_key(capsys, "--username", "ada", "--sysadmin", "--name", "scripts")
    user = ApiKey.objects.get().user

    # when it is sent in the header
    response = api_client.get(WHOAMI, **{header: template.format(key=raw_key)})

    # then it identifies its owner
    assert user_line == f"user_id={user.public_id}"
    assert response.status_code == 200
    assert response.json() == {
        "user_id": str(user.public_id),
        "username": "ada",
        "is_sysadmin": True,
        "is_staff": True,
        "api_key_prefix": raw_key[:12],
    }


@pytest.mark.django_db
def test_only_the_digest_of_a_key_is_stored(capsys):
    _, raw_key = _create_api_key(capsys, "--username", "bob")

    api_key = ApiKey.objects.get()
    stored_values = [str(value) for value in ApiKey.objects.values().get().values()]

    assert api_key.digest == api_key_digest(raw_key)
    assert raw_key not in stored_values
    assert api_key.prefix == raw_key[:12]
    assert not api_key.user.is_sysadmin


@pytest.mark.django_db
def test_create_api_key_reuses_an_existing_user(capsys):
    first_user_line, first_key = _create_api_key(capsys, "--username", "carol")
    second_user_line, second_key = _create_api_key(capsys, "--username", "carol", "--name", "second")

    assert first_user_line == second_user_line
    assert first_key != second_key
    assert ApiKey.objects.filter(user__username="carol").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("header_value", ["tly_unknown", "Token tly_unknown", "not-a-key", "Bearer "])
def test_an_unknown_key_leaves_the_request_anonymous(api_client, header_value):
    response = api_client.get(WHOAMI, HTTP_AUTHORIZATION=header_value)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_a_revoked_key_authenticates_nobody(api_client):
    user = UserFactory()
    api_key, raw_key = api_key_create(user=user, name="soon revoked")
    api_key_revoke(api_key=api_key)

    response = api_client.get(WHOAMI, HTTP_AUTHORIZATION=raw_key)

    assert response.status_code == 401


@pytest.mark.django_db
def test_an_expired_key_authenticates_nobody(api_client):
    raw_key = api_key_for(UserFactory(), expires_at=timezone.now() - timedelta(seconds=1))

    response = api_client.get(WHOAMI, HTTP_AUTHORIZATION=raw_key)

    assert response.status_code == 401


@pytest.mark.django_db
def test_a_key_of_an_inactive_user_authenticates_nobody(api_client):
    user = UserFactory(is_active=False)
    raw_key = api_key_for(user)

    response = api_client.get(WHOAMI, HTTP_AUTHORIZATION=raw_key)

    assert response.status_code == 401


@pytest.mark.django_db
def test_use_of_a_key_is_recorded_at_most_once_a_minute(api_client, django_assert_num_queries):
    user = UserFactory()
    raw_key = api_key_for(user)

    api_client.get(WHOAMI, HTTP_AUTHORIZATION=raw_key)
    first_use = ApiKey.objects.get().last_used
    with django_assert_num_queries(1):
        api_client.get(WHOAMI, HTTP_AUTHORIZATION=raw_key)

    assert first_use is not None
    assert ApiKey.objects.get().last_used == first_use


@pytest.mark.django_db
def test_the_ckan_header_wins_over_authorization(api_client):
    ckan_user, other_user = UserFactory(username="ckan"), UserFactory(username="other")

    response = api_client.get(
        WHOAMI,
        HTTP_X_CKAN_API_KEY=api_key_for(ckan_user),
        HTTP_AUTHORIZATION=api_key_for(other_user),
    )

    assert response.json()["username"] == "ckan"
