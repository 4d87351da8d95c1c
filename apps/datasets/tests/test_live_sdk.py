"""The learnosity-sdk package, unchanged, drives the whole dataset workflow against a live server."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from learnosity_sdk.request import DataApi

from apps.common.testing.fixtures import wait_for
from apps.datasets.spec import DEFAULT_FIELDS
from apps.datasets.tests.conftest import dataset_request, ndjson, security_for, seed_lines, signed_form

pytestmark = pytest.mark.live


def test_the_sdk_sets_uploads_commences_polls_gets_and_downloads(live_server, consumer, seed_sessions, build_queue):
    api, base, secret = DataApi(), f"{live_server.url}/v2023.3.LTS", consumer.consumer_secret
    request = dataset_request(file_count=2, options={"fields": DEFAULT_FIELDS, "default_sort_field": "mean_percent"})
    dataset_id = request["dataset_id"]

    # set: two signed upload URLs
    created = api.request(f"{base}/reports/datasets", security_for(consumer), secret, request, "set").json()
    uploads = created["data"]["input_files"]
    # upload the first file only, as the reference's upload step does (a form content type)
    lines = seed_lines()
    put = requests.put(
        uploads[0], data=ndjson(lines), headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30
    )
    # commence with what is uploaded
    commence = {"dataset_type": "sessions-summary-by-group", "dataset_id": dataset_id}
    started = api.request(f"{base}/jobs/reports/datasets", security_for(consumer), secret, commence, "set").json()
    reference = started["data"]["job_reference"]

    # poll until the job completes
    def status() -> str:
        jobs = api.request(f"{base}/jobs", security_for(consumer), secret, {"references": [reference]}, "get").json()
        return jobs["data"][0]["status"]

    assert (created["meta"]["status"], put.status_code, started["meta"]["status"]) == (True, 200, True)
    assert wait_for(lambda: status() in ("completed", "failed"), seconds=120)
    assert status() == "completed"

    # get: one URL per path, in order; download each
    wanted = {**commence, "group_paths": [[], ["D0"], ["D0", "School", "Class 2"], ["Atlantis"]]}
    urls = list(api.results_iter(f"{base}/reports/datasets", security_for(consumer), secret, wanted, "get"))
    files = [requests.get(url, timeout=30) for url in urls]

    assert [f.status_code for f in files] == [200, 200, 200, 404]
    root, district, leaf = (f.json() for f in files[:3])
    root_values = dict(zip(root["fields"], root["self"], strict=True))
    assert {
        k: root_values[k]
        for k in (
            "population",
            "group_count",
            "mean_score",
            "median_score",
            "stddev_score",
            "mean_percent",
            "lowest_score",
            "highest_score",
        )
    } == {
        "population": 8,
        "group_count": 2,
        "mean_score": 5.0,
        "median_score": 4.5,
        "stddev_score": 2.0,
        "mean_percent": 50.0,
        "lowest_score": 2.0,
        "highest_score": 9.0,
    }
    assert (root["sort_field"], root["sort_order"], [row[1] for row in root["rows"]]) == (
        "mean_percent",
        "desc",
        [["D1"], ["D0"]],
    )
    assert (district["group_path"], district["rows_total"]) == (["D0"], 1)
    assert (leaf["fields"], leaf["rows"]) == (
        ["user_id", "score", "attempted_max_score", "unscored_max_score", "max_score", "seen_activities"],
        [["u6", 7.0, 10.0, 0.0, 10.0, 1], ["u2", 4.0, 10.0, 0.0, 10.0, 1]],
    )
    assert files[3].json()["meta"]["status"] is False


def _post(url: str, form: dict) -> requests.Response:
    return requests.post(url, data=form, timeout=30)


@pytest.mark.parametrize(
    "forge",
    [
        lambda form: {**form, "request": form["request"].replace("school", "schoo1")},
        lambda form: {**form, "request": json.dumps(json.loads(form["request"]))},
        lambda form: form | {"security": json.dumps({**json.loads(form["security"]), "consumer_key": "nobody"})},
    ],
    ids=["tampered", "re-serialised", "unknown-consumer"],
)
def test_forged_requests_are_refused_by_the_live_server(live_server, consumer, forge):
    form = forge(signed_form(consumer, dataset_request(), "set"))

    response = _post(f"{live_server.url}/v1/reports/datasets", form)

    assert (response.status_code, response.json()["meta"]["status"]) == (403, False)


def test_an_expired_request_is_refused_by_the_live_server(live_server, consumer):
    past = datetime.now(UTC) - timedelta(hours=2)
    security = security_for(
        consumer, timestamp=past.strftime("%Y%m%d-%H%M"), expires=(past + timedelta(minutes=5)).strftime("%Y%m%d-%H%M")
    )

    response = DataApi().request(
        f"{live_server.url}/latest/reports/datasets", security, consumer.consumer_secret, dataset_request(), "set"
    )

    assert (response.status_code, response.json()["meta"]["message"]) == (403, "security.expires has passed")
