"""The Data API in the Learnosity dialect: whole responses for the contract cases 27-30."""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from learnosity_sdk.request import Init

from apps.common.api.learnosity import signature_make
from apps.common.testing.matchers import ANY_INT
from apps.datasets.models import Dataset, DatasetJob
from apps.datasets.services import dataset_build
from apps.datasets.tests.conftest import data_api, dataset_request, local_path, ndjson, seed_lines, signed_form

pytestmark = pytest.mark.django_db

DATASETS = "/v2023.3.LTS/reports/datasets"
UPLOAD_URL = re.compile(r"^http://testserver/datasets/files/in/[A-Za-z0-9_:.-]+$")


def error(message: str, code: int) -> dict:
    return {"meta": {"status": False, "timestamp": ANY_INT, "message": message, "code": code}, "data": None}


@pytest.mark.parametrize("version", ["v2023.3.LTS", "v1", "latest", "latest-lts", "developer", None])
def test_set_initialises_a_dataset_with_signed_upload_urls(api_client, consumer, version):
    request = dataset_request(file_count=2)
    path = f"/{version}/reports/datasets" if version else "/reports/datasets"

    response = data_api(api_client, path, signed_form(consumer, request, "set"))

    body = response.json()
    assert (response.status_code, body["meta"], list(body["data"])) == (
        200,
        {"status": True, "timestamp": ANY_INT},
        ["dataset_id", "input_files"],
    )
    assert body["data"]["dataset_id"] == request["dataset_id"]
    assert [bool(UPLOAD_URL.match(url)) for url in body["data"]["input_files"]] == [True, True]
    assert Dataset.objects.get().upload_expires_at == pytest.approx(
        datetime.now(UTC) + timedelta(hours=1), abs=timedelta(minutes=1)
    )


def _tampered(form: dict) -> dict:
    return {**form, "request": form["request"].replace("sessions-summary-by-group", "sessions-summary-by-groop")}


def _respaced(form: dict) -> dict:
    return {**form, "request": json.dumps(json.loads(form["request"]), indent=1)}


@pytest.mark.parametrize(
    ("make_form", "message"),
    [
        (lambda c, r: _tampered(signed_form(c, r, "set")), "Signatures do not match"),
        (lambda c, r: _respaced(signed_form(c, r, "set")), "Signatures do not match"),
        (lambda c, r: signed_form(c, r, "set", secret="not-the-secret"), "Signatures do not match"),
        (lambda c, r: {**signed_form(c, r, "set"), "action": "get"}, "Signatures do not match"),
        (lambda c, r: signed_form(c, r, "set", consumer_key="unknown"), "Unknown consumer"),
        (lambda c, r: signed_form(c, r, "set", timestamp="20200101-1200"), "security.timestamp is too old"),
        (
            lambda c, r: signed_form(c, r, "set", timestamp="20200101-1200", expires="20200101-1300"),
            "security.expires has passed",
        ),
        (
            lambda c, r: signed_form(c, r, "set", timestamp="2020-01-01"),
            "security.timestamp must be YYYYMMDD-HHMM (UTC)",
        ),
    ],
    ids=["tampered", "re-serialised", "wrong-secret", "other-action", "unknown-consumer", "old", "expired", "format"],
)
def test_a_refused_signature_is_a_403_in_the_meta_envelope(api_client, consumer, make_form, message):
    response = data_api(api_client, DATASETS, make_form(consumer, dataset_request()))

    assert (response.status_code, response.json()) == (403, error(message, 10001))
    assert not Dataset.objects.exists()


def test_a_far_expiry_admits_an_old_timestamp_and_telemetry_is_ignored(api_client, consumer):
    expires = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y%m%d-%H%M")
    form = signed_form(consumer, dataset_request(), "set", timestamp="20200101-1200", expires=expires)

    response = data_api(api_client, DATASETS, form)

    assert '"meta":{"sdk"' in form["request"]
    assert response.status_code == 200


def test_the_signature_is_the_references_worked_example():
    security = {"consumer_key": "yis0TYCu7U9V4o7M", "domain": "localhost", "timestamp": "20250101-1200"}
    request = '{"dataset_type":"sessions-summary-by-group"}'
    secret = "74c5fd430cf1242a527f6223aebd42d30464be22"
    Init.disable_telemetry()
    try:
        made = Init("data", security, secret, json.loads(request), "set").generate()
    finally:
        Init.enable_telemetry()

    assert json.loads(made["security"])["signature"] == signature_make(
        secret=secret, security=security, request=request, action="set"
    )


@pytest.mark.parametrize(
    ("form", "status", "message", "code"),
    [
        ({"action": "set"}, 400, "Missing mandatory parameter: security", 20000),
        ({"security": "[1]", "action": "set"}, 400, "Invalid parameter type: security must be a JSON object", 20003),
        (
            {"security": '{"consumer_key": "k"}', "action": "set"},
            400,
            "Missing mandatory parameter: security.domain",
            20000,
        ),
    ],
)
def test_a_malformed_security_packet_is_a_400(api_client, consumer, form, status, message, code):
    response = data_api(api_client, DATASETS, form)

    assert (response.status_code, response.json()) == (status, error(message, code))


def test_a_json_body_is_a_400_not_a_500(api_client, consumer):
    response = api_client.post(DATASETS, {"security": "{}"}, format="json")

    assert (response.status_code, response.json()) == (400, error("Invalid parameter type: the body", 20003))


def test_get_is_not_allowed_on_the_endpoint(api_client):
    response = api_client.get(DATASETS)

    assert (response.status_code, response.json()) == (405, error('Method "GET" not allowed.', 10000))


@pytest.mark.parametrize(
    ("change", "status", "message", "code"),
    [
        ({"file_count": 101}, 400, "Invalid parameter value: file_count must be between 0 and 100", 20004),
        ({"file_count": "1"}, 400, "Invalid parameter type: file_count", 20003),
        ({"dataset_type": None}, 400, "Missing mandatory parameter: dataset_type", 20000),
        (
            {"dataset_type": "other"},
            400,
            "Invalid parameter value: dataset_type must be sessions-summary-by-group",
            20004,
        ),
        ({"dataset_id": None}, 400, "Missing mandatory parameter: dataset_id", 20000),
        ({"dataset_id": "not-a-uuid"}, 400, "Invalid parameter value: dataset_id must be a UUID", 20004),
        ({"groups": None}, 400, "Missing mandatory parameter: groups", 20000),
        ({"groups": []}, 400, "Invalid parameter value: groups must name at least one level", 20004),
        ({"groups": [{"key": "a"}]}, 400, "Missing mandatory parameter: groups[0].label", 20000),
        (
            {"groups": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]},
            400,
            "Invalid parameter value: groups keys must differ",
            20004,
        ),
        (
            {"groups": [{"key": str(n), "label": "L"} for n in range(11)]},
            400,
            "Too many parameters passed: groups (at most 10)",
            20002,
        ),
        (
            {"filters": {"mintime": "yesterday"}},
            400,
            "Invalid parameter value: filters.mintime must be an RFC 3339 date-time or a unix timestamp",
            20004,
        ),
        (
            {"filters": {"mintime": "2026-01-02T00:00:00Z", "maxtime": 1735689600}},
            400,
            "Invalid parameter value: filters.maxtime must not be before filters.mintime",
            20004,
        ),
        (
            {"options": {"fields": ["population"], "default_sort_field": "mean_score"}},
            400,
            "Invalid parameter value: options.default_sort_field must be one of the fields asked for",
            20004,
        ),
        (
            {"options": {"fields": ["population", "p100_score"]}},
            400,
            "Invalid parameter value: options.fields has unknown fields: p100_score",
            20004,
        ),
        (
            {"options": {"default_sort_order": "up"}},
            400,
            "Invalid parameter value: options.default_sort_order must be asc or desc",
            20004,
        ),
        (
            {"options": {"user_fields": ["score"], "default_users_sort_field": "max_score"}},
            400,
            "Invalid parameter value: options.default_users_sort_field must be one of the fields asked for",
            20004,
        ),
        ({"options": {"user_fields": "score"}}, 400, "Invalid parameter type: options.user_fields", 20003),
        ({"group_source": str(uuid.uuid4()), "file_count": 0}, 404, "Group not found.", 20004),
    ],
)
def test_each_invalid_field_has_its_code(api_client, consumer, change, status, message, code):
    request = {k: v for k, v in {**dataset_request(), **change}.items() if v is not None}

    response = data_api(api_client, DATASETS, signed_form(consumer, request, "set"))

    assert (response.status_code, response.json()) == (status, error(message, code))
    assert not Dataset.objects.exists()


def test_a_used_dataset_id_is_a_409(api_client, consumer):
    request = dataset_request()
    data_api(api_client, DATASETS, signed_form(consumer, request, "set"))

    response = data_api(api_client, DATASETS, signed_form(consumer, request, "set"))

    assert (response.status_code, response.json()) == (
        409,
        error("Invalid parameter value: dataset_id is already used", 20004),
    )


def test_an_action_the_endpoint_lacks_is_a_405(api_client, consumer):
    response = data_api(api_client, DATASETS, signed_form(consumer, dataset_request(), "update"))

    assert (response.status_code, response.json()) == (405, error("Action update is not supported here", 10000))


def _created(api_client, consumer, **overrides) -> tuple[str, list[str]]:
    request = dataset_request(**overrides)
    data = data_api(api_client, DATASETS, signed_form(consumer, request, "set")).json()["data"]
    return request["dataset_id"], data.get("input_files", [])


def _get(api_client, consumer, dataset_id: str, **extra):
    request = {"dataset_type": "sessions-summary-by-group", "dataset_id": dataset_id, **extra}
    return data_api(api_client, DATASETS, signed_form(consumer, request, "get"))


def test_a_bad_upload_line_fails_the_job_with_its_line_number(api_client, consumer):
    dataset_id, (upload,) = _created(api_client, consumer)
    lines = [
        *seed_lines()[:2],
        {"user_id": "x", "session_id": [str(n) for n in range(51)], "group_path": ["a", "b", "c"]},
    ]

    put = api_client.put(
        local_path(upload), ndjson(lines) + b"\n\n{oops", content_type="application/x-www-form-urlencoded"
    )
    dataset_build(dataset_id=dataset_id)

    assert (put.status_code, put.json()["data"]) == (200, {"dataset_id": dataset_id, "size": ANY_INT})
    job = DatasetJob.objects.get()
    jobs = data_api(api_client, "/v1/jobs", signed_form(consumer, {"references": [str(job.reference)]}, "get")).json()
    assert jobs["data"] == [
        {
            "reference": str(job.reference),
            "type": "reports/datasets",
            "status": "failed",
            "dt_created": job.dt_created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "dt_completed": None,
            "error": "Bad lines: file 0 line 5: not a JSON object of user_id, session_id(s) and group_path strings",
        }
    ]
    assert jobs["meta"] == {"status": True, "timestamp": ANY_INT, "records": 1}


def test_a_line_of_more_than_50_sessions_fails_the_job(api_client, consumer):
    dataset_id, (upload,) = _created(api_client, consumer)
    lines = [
        *seed_lines()[:2],
        {"user_id": "x", "session_id": [str(n) for n in range(51)], "group_path": ["a", "b", "c"]},
    ]
    api_client.put(local_path(upload), ndjson(lines), content_type="application/x-ndjson")

    job = dataset_build(dataset_id=dataset_id)

    assert (job.status, job.error) == ("failed", "Bad lines: file 0 line 3: more than 50 session ids")


def test_an_expired_upload_url_is_a_403(api_client, consumer, settings):
    _, (upload,) = _created(api_client, consumer)
    settings.DATASETS_URL_MAX_AGE_SECONDS = -1

    response = api_client.put(local_path(upload), b"{}", content_type="application/x-ndjson")

    assert (response.status_code, response.json()) == (403, error("The URL has expired", 20004))


def test_a_forged_upload_url_is_a_403(api_client, consumer):
    _, (upload,) = _created(api_client, consumer)

    response = api_client.put(local_path(upload)[:-2] + "xx", b"{}", content_type="application/x-ndjson")

    assert (response.status_code, response.json()) == (403, error("The URL's signature does not match", 20004))


def test_get_before_completion_answers_the_status_and_no_urls(api_client, consumer, django_assert_num_queries):
    dataset_id, _ = _created(api_client, consumer)

    # the consumer and the read (2), within the POST's transaction: a savepoint and its release in a test
    with django_assert_num_queries(4):
        response = _get(api_client, consumer, dataset_id)

    assert (response.status_code, response.json()) == (
        200,
        {"meta": {"status": True, "timestamp": ANY_INT, "records": 0, "dataset_status": "uploading"}, "data": []},
    )


def test_get_of_an_unknown_dataset_is_a_404(api_client, consumer):
    response = _get(api_client, consumer, str(uuid.uuid4()))

    assert (response.status_code, response.json()) == (
        404,
        error("Invalid parameter value: dataset_id not found", 20004),
    )


def test_after_completion_get_answers_a_url_per_path_in_order(
    api_client, consumer, seed_sessions, django_assert_num_queries
):
    dataset_id, (upload,) = _created(api_client, consumer, options={"fields": ["population", "mean_score"]})
    api_client.put(local_path(upload), ndjson(seed_lines()), content_type="application/x-ndjson")
    dataset_build(dataset_id=dataset_id)
    paths = [["D1", "School"], [], ["Nowhere"], ["D0"]]

    # the consumer and the read (2), within the POST's transaction: a savepoint and its release in a test
    with django_assert_num_queries(4):
        response = _get(api_client, consumer, dataset_id, group_paths=paths)

    body = response.json()
    assert body["meta"] == {"status": True, "timestamp": ANY_INT, "records": 4, "dataset_status": "completed"}
    files = [api_client.get(local_path(url)) for url in body["data"]]
    assert [f.status_code for f in files] == [200, 200, 404, 200]
    documents = [json.loads(f.content) for f in files if f.status_code == 200]
    assert [d["group_path"] for d in documents] == [["D1", "School"], [], ["D0"]]
    school = documents[0]
    assert school == {
        "group_id": school["group_id"],
        "group_name": "School",
        "group_path": ["D1", "School"],
        "fields": ["group_id", "group_path", "group_name", "population", "mean_score"],
        "sort_field": "population",
        "sort_order": "desc",
        "rows_per_page": 1000,
        "rows_total": 2,
        "self": [school["group_id"], ["D1", "School"], "School", 4, 5.5],
        "rows": [
            [school["rows"][0][0], ["D1", "School", "Class 1"], "Class 1", 2, 4.5],
            [school["rows"][1][0], ["D1", "School", "Class 3"], "Class 3", 2, 6.5],
        ],
    }
    assert files[2].json() == error("No such group path in the dataset", 20004)


def test_commence_starts_the_job_with_the_files_uploaded_so_far(api_client, consumer):
    dataset_id, (upload, _) = _created(api_client, consumer, file_count=2)
    commence = {"dataset_type": "sessions-summary-by-group", "dataset_id": dataset_id}

    early = data_api(api_client, "/latest/jobs/reports/datasets", signed_form(consumer, commence, "set"))
    api_client.put(local_path(upload), ndjson(seed_lines()), content_type="application/x-ndjson")
    started = data_api(api_client, "/latest/jobs/reports/datasets", signed_form(consumer, commence, "set"))

    assert (early.status_code, early.json()) == (
        400,
        error("Invalid parameter value: no input file of the dataset is uploaded yet", 20004),
    )
    job = DatasetJob.objects.get()
    assert (started.status_code, started.json()["data"]) == (
        200,
        {"dataset_id": dataset_id, "job_reference": str(job.reference)},
    )
    late = api_client.put(local_path(upload), b"", content_type="application/x-ndjson")
    assert (late.status_code, late.json()) == (
        409,
        error("The dataset's job has started: its files can no longer change.", 20004),
    )


def test_another_consumers_dataset_is_not_found(api_client, consumer):
    from apps.datasets.tests.factories import ConsumerFactory

    dataset_id, _ = _created(api_client, consumer)

    response = _get(api_client, ConsumerFactory(), dataset_id)

    assert response.status_code == 404


def test_jobs_without_references_lists_completed_jobs(api_client, consumer, seed_sessions, django_assert_num_queries):
    dataset_id, (upload,) = _created(api_client, consumer)
    api_client.put(local_path(upload), ndjson(seed_lines()), content_type="application/x-ndjson")
    dataset_build(dataset_id=dataset_id)

    # the consumer and the read (2), within the POST's transaction: a savepoint and its release in a test
    with django_assert_num_queries(4):
        response = data_api(api_client, "/developer/jobs", signed_form(consumer, {}, "get"))

    assert [(job["status"], job["error"]) for job in response.json()["data"]] == [("completed", "")]


def test_the_upload_size_limit_covers_dataset_files():
    assert settings.REQUEST_MAX_BYTES_BY_PATH["/datasets/files/"] >= 100 * 1024 * 1024
