"""The API key cache: with a cache that every process shares (Redis), a key is read once, and a revoke, a scope
change or an owner's deactivation reaches the next request in every process; with a per-process cache keys are
always read from the database."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from apps.common.models import ApiKey
from apps.common.selectors import api_keys_get_usable
from apps.common.services import api_key_revoke
from apps.common.testing.factories import UserFactory, api_key_for
from apps.common.testing.fixtures import database_url_for_tests

WHOAMI = "/api/v1/auth/whoami/"


@pytest.mark.broker
@pytest.mark.django_db
def test_a_cached_key_is_read_without_a_query(shared_cache, django_assert_num_queries):
    raw_key = api_key_for(UserFactory())
    api_keys_get_usable(raw_keys=[raw_key])

    with django_assert_num_queries(0):
        found = api_keys_get_usable(raw_keys=[raw_key])

    assert found[raw_key].user.is_active


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_revoke_scope_change_or_deactivation_reaches_the_next_lookup(shared_cache):
    revoked, rescoped, deactivated = UserFactory(), UserFactory(), UserFactory()
    raw = {user.username: api_key_for(user) for user in (revoked, rescoped, deactivated)}
    assert len(api_keys_get_usable(raw_keys=list(raw.values()))) == 3  # all cached

    api_key_revoke(api_key=ApiKey.objects.get(user=revoked))
    key = ApiKey.objects.get(user=rescoped)
    key.read_only = True
    key.save()
    deactivated.is_active = False
    deactivated.save()
    found = api_keys_get_usable(raw_keys=list(raw.values()))

    assert set(found) == {raw[rescoped.username]}
    assert found[raw[rescoped.username]].read_only


@pytest.mark.postgres
@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_key_revoked_in_another_process_is_refused_at_the_next_request(shared_cache, api_client):
    user = UserFactory()
    raw_key = api_key_for(user)
    assert api_client.get(WHOAMI, HTTP_AUTHORIZATION=raw_key).status_code == 200  # cached here

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url_for_tests(),
           "TALLY_CACHE_URL": settings.CELERY_BROKER_URL, "TALLY_CACHE_KEY_PREFIX": shared_cache}  # fmt: skip
    revoke = (
        "from apps.common.models import ApiKey; from apps.common.services import api_key_revoke; "
        f"api_key_revoke(api_key=ApiKey.objects.get(user__username={user.username!r}))"
    )
    subprocess.run([sys.executable, "manage.py", "shell", "-c", revoke], env=env, cwd=settings.BASE_DIR, check=True)

    assert api_client.get(WHOAMI, HTTP_AUTHORIZATION=raw_key).status_code == 401


@pytest.mark.django_db
def test_without_a_shared_cache_every_lookup_reads_the_database(django_assert_num_queries):
    raw_key = api_key_for(UserFactory())
    api_keys_get_usable(raw_keys=[raw_key])

    with django_assert_num_queries(1):
        api_keys_get_usable(raw_keys=[raw_key])


@pytest.mark.broker
@pytest.mark.django_db
def test_a_recorded_use_is_cached_so_that_the_next_requests_do_not_record_it_again(
    shared_cache, api_client, django_assert_num_queries
):
    raw_key = api_key_for(UserFactory())
    api_client.get(WHOAMI, HTTP_AUTHORIZATION=raw_key)  # read, cached, its use recorded and cached

    with django_assert_num_queries(0):
        api_keys_get_usable(raw_keys=[raw_key])
    assert api_keys_get_usable(raw_keys=[raw_key])[raw_key].last_used is not None
