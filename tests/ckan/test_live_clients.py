"""Outside clients against a live server: ckanapi (both paths) and plain requests as in the seed's examples."""

import pytest
import requests
from ckanapi import CKANAPIError, NotAuthorized, RemoteCKAN, ValidationError

pytestmark = pytest.mark.live

QUERY = {
    "query": [{"query_group": [{"state": "active"}, {"state": "pending"}]}, {"query_group": [{"type": "group"}]}],
    "start_date": "2024-01-01",
    "end_date": "2025-12-31",
    "date_field": "created",
}


class VersionedCKAN(RemoteCKAN):
    base_url = "api/3/action/"


@pytest.fixture
def site(live_server, known_groups):
    return live_server.url


@pytest.mark.parametrize("client_class", [RemoteCKAN, VersionedCKAN], ids=["unversioned", "versioned"])
def test_ckanapi_counts_groups(site, sysadmin_key, client_class):
    with client_class(site, apikey=sysadmin_key) as ckan:
        result = ckan.action.get_group_count(**QUERY)

    assert result == {"count": 3}


@pytest.mark.parametrize("client_class", [RemoteCKAN, VersionedCKAN], ids=["unversioned", "versioned"])
def test_ckanapi_sees_the_seeds_validation_error(site, sysadmin_key, client_class):
    with client_class(site, apikey=sysadmin_key) as ckan, pytest.raises(ValidationError) as failure:
        ckan.call_action("get_group_count", {**QUERY, "query": [{"query_group": [{"test": "x"}]}]})

    assert failure.value.error_dict == {
        "query": 'Field "test" not recognized in group table.',
        "__type": "Validation Error",
    }


@pytest.mark.parametrize("apikey", [None, "tly_unknown"])
def test_ckanapi_is_not_authorized_without_a_sysadmin_key(site, plain_key, apikey):
    for key in (plain_key, apikey):
        with RemoteCKAN(site, apikey=key) as ckan, pytest.raises(NotAuthorized):
            ckan.action.get_group_count(**QUERY)


def test_ckanapi_gets_an_api_error_for_an_unknown_action(site, sysadmin_key):
    with RemoteCKAN(site, apikey=sysadmin_key) as ckan, pytest.raises(CKANAPIError):
        ckan.call_action("get_unicorn_count", {})


def test_requests_as_in_the_seed_examples(site, sysadmin_key):
    headers = {
        "EDX-API-Key": sysadmin_key,
        "User-Agent": "EDX-USER",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    simple = {
        "query": [{"query_group": [{"name": "alpha"}]}],
        "start_date": "2024-01-01",
        "end_date": "2024-12-31",
        "date_field": "created",
    }
    advanced = {**simple, "query": [{"query_group": [{"state": "active"}]}, {"query_group": [{"open_access": True}]}]}
    failing = {**simple, "query": [{"query_group": [{"test": "x"}]}]}

    url = f"{site}/api/3/action/get_group_count"
    results = [requests.post(url, headers=headers, json=data, timeout=10) for data in (simple, advanced, failing)]

    help_url = f"{site}/api/3/action/help_show?name=get_group_count"
    assert [r.json() for r in results] == [
        {"help": help_url, "success": True, "result": {"count": 1}},
        {"help": help_url, "success": True, "result": {"count": 1}},
        {
            "help": help_url,
            "success": False,
            "error": {"query": 'Field "test" not recognized in group table.', "__type": "Validation Error"},
        },
    ]
