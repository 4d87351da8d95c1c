"""The embedded default under concurrent writers: SQLite configured as a server database (WAL, a busy timeout,
transactions that take the write lock when they begin) makes writers wait for each other instead of failing."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

pytestmark = pytest.mark.live

WRITERS = 20


def _sunbird(served, method: str, operation: str, request: dict) -> requests.Response:
    headers = {
        "Authorization": f"Bearer {served.sysadmin_key}",
        "x-authenticated-user-token": served.sysadmin_key,
    }
    return requests.request(
        method, f"{served.url}/api/group/{operation}", json={"request": request}, headers=headers, timeout=120
    )


def _in_parallel(calls) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_parallel_sunbird_creates_and_updates_all_succeed(served_sqlite):
    creates = _in_parallel(
        [lambda n=n: _sunbird(served_sqlite, "post", "v1/create", {"name": f"parallel {n}"}) for n in range(WRITERS)]
    )
    ids = [response.json()["result"]["groupId"] for response in creates]
    one_group = [
        lambda n=n: _sunbird(served_sqlite, "patch", "v1/update", {"groupId": ids[0], "description": f"take {n}"})
        for n in range(WRITERS)
    ]
    each_group = [
        lambda group_id=group_id: _sunbird(
            served_sqlite,
            "patch",
            "v1/update",
            {"groupId": group_id, "activities": {"add": [{"id": "c1", "type": "Course"}]}},
        )
        for group_id in ids
    ]
    updates = _in_parallel(one_group + each_group)

    assert [response.status_code for response in creates + updates] == [200] * (3 * WRITERS)
    read = requests.get(
        f"{served_sqlite.url}/api/group/v1/read/{ids[-1]}",
        headers={
            "Authorization": f"Bearer {served_sqlite.sysadmin_key}",
            "x-authenticated-user-token": served_sqlite.sysadmin_key,
        },
        timeout=30,
    ).json()
    assert read["result"]["activities"] == [{"id": "c1", "type": "Course"}]


def test_parallel_native_writes_all_succeed(served_sqlite):
    headers = {"Authorization": f"Token {served_sqlite.sysadmin_key}"}
    url = f"{served_sqlite.url}/api/v1/groups/"

    creates = _in_parallel(
        [
            lambda n=n: requests.post(url, json={"name": f"native {n}"}, headers=headers, timeout=120)
            for n in range(WRITERS)
        ]
    )
    patches = _in_parallel(
        [
            lambda r=r: requests.patch(
                f"{url}{r.json()['id']}/", json={"description": "x"}, headers=headers, timeout=120
            )
            for r in creates
        ]
    )

    assert [response.status_code for response in creates] == [201] * WRITERS
    assert [response.status_code for response in patches] == [200] * WRITERS
