"""The Learnosity Data API with hostile `security`, `request` and `action` form fields (signed, so that the request
reaches the dataset parsers, and not), and hostile bodies under any content type: never a 5xx, every refusal
`{"meta": {"status": false, "message", "code"}, "data": null}`, and a refused write leaves no dataset behind."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.common.api.learnosity import Learnosity, signature_make
from apps.common.testing.hostile import body_with, hostile_texts, quoted, raw_bodies, raw_fragments, to_bytes
from apps.datasets.models import Dataset, DatasetJob
from apps.datasets.services import dataset_create
from apps.datasets.spec import dataset_spec_parse
from apps.datasets.tests.conftest import dataset_request, dataset_storage, security_for  # noqa: F401 (a fixture)
from apps.datasets.tests.factories import ConsumerFactory
from tests.hostile.conftest import answered

FIXTURES = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}
FORM = "application/x-www-form-urlencoded"
DATASET_ID = "0b6b7f8e-5d2a-4a3e-9c1e-2f7f3b0a9d11"
ROUTES = [
    ("/v1/reports/datasets", "set"),
    ("/latest/reports/datasets", "get"),
    ("/latest/jobs/reports/datasets", "set"),
    ("/v2024.1.LTS/jobs", "get"),
]
ENDPOINTS = ["/v1/reports/datasets", "/latest/jobs/reports/datasets", "/v2024.1.LTS/jobs", "/developer/jobs"]


@pytest.fixture
def consumer(db, dataset_storage):  # noqa: F811 (the fixture imported above)
    consumer = ConsumerFactory(consumer_key="hostile-key")
    dataset_create(consumer=consumer, spec=dataset_spec_parse(dataset_request(dataset_id=DATASET_ID)))
    return consumer


TEMPLATES = {
    "set": dataset_request(filters={"mintime": "2024-01-01T00:00:00Z", "maxtime": "2024-12-31T00:00:00Z"},
                           options={"fields": ["population", "mean_score", "percentile_90_score"],
                                    "user_fields": ["score"], "rows_per_page": 10, "default_sort_field": "population",
                                    "default_sort_order": "asc"}),
    "get": {"dataset_type": "sessions-summary-by-group", "dataset_id": DATASET_ID,
            "group_paths": [[], ["District"], ["D", "S", "C"]], "references": [DATASET_ID]},
}  # fmt: skip


def form(**fields: bytes | str) -> bytes:
    """A form-encoded body whose values may be any bytes (not UTF-8 included)."""
    return b"&".join(
        name.encode() + b"=" + quoted(value if isinstance(value, str) else value.decode("latin-1")).encode()
        if isinstance(value, str) else name.encode() + b"=" + b"".join(b"%%%02X" % byte for byte in value)
        for name, value in fields.items()
    )  # fmt: skip


def datasets() -> tuple:
    return tuple(Dataset.objects.order_by("pk").values_list("dataset_id", flat=True)), DatasetJob.objects.count()


@settings(max_examples=120, **FIXTURES)
@given(data=st.data())
def test_a_signed_hostile_request_is_served_or_refused_in_learnosity_shape(client, consumer, data):
    path, action = data.draw(st.sampled_from(ROUTES), label="route")
    if data.draw(st.integers(0, 4), label="other action") == 0:
        action = data.draw(st.sampled_from(["update", "delete", "GET"]) | hostile_texts.filter(bool), label="action")
    request = data.draw(body_with(TEMPLATES["set" if action == "set" else "get"]), label="request")
    security = security_for(consumer)
    text = request.decode("utf-8", "replace")
    if text.encode() == request and action.encode("utf-8", "replace").decode() == action:
        security["signature"] = signature_make(
            secret=consumer.consumer_secret, security=security, request=text, action=action
        )
    before = datasets()

    response = client.post(path, form(security=to_bytes(_json(security)), request=request, action=to_bytes(action)),
                           content_type=FORM)  # fmt: skip

    answered(response, Learnosity)
    if response.status_code >= 400:
        assert datasets() == before


def _json(value) -> str:
    import json

    return json.dumps(value)


SECURITY = {"consumer_key": "hostile-key", "domain": "localhost", "timestamp": "20240101-0000",
            "expires": "20990101-0000", "user_id": "u", "signature": "$02$" + "0" * 64}  # fmt: skip


@settings(max_examples=80, **FIXTURES)
@given(
    security=body_with(SECURITY) | raw_fragments.map(to_bytes),
    request=raw_bodies,
    action=st.sampled_from([b"get", b"set", b"", b"\x00", b"\xff"]) | st.binary(max_size=8),
    path=st.sampled_from(ENDPOINTS),
)
def test_any_unsigned_form_is_refused_in_learnosity_shape(client, consumer, security, request, action, path):
    response = client.post(path, form(security=security, request=request, action=action), content_type=FORM)

    answered(response, Learnosity)
    assert response.status_code >= 400


@settings(max_examples=40, **FIXTURES)
@given(
    body=raw_bodies,
    content_type=st.sampled_from([FORM, "multipart/form-data; boundary=x", "multipart/form-data", "application/json",
                                  "text/plain", f"{FORM}; charset=latin-1", f"{FORM}; charset=nope"]),
    path=st.sampled_from(ENDPOINTS),
)  # fmt: skip
def test_any_body_under_any_content_type_is_refused_in_learnosity_shape(client, consumer, body, content_type, path):
    response = client.generic("POST", path, body, content_type=content_type)

    answered(response, Learnosity)
    assert response.status_code >= 400
