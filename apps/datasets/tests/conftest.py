import json
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import pytest
from learnosity_sdk.request import Init

from apps.datasets.tests.factories import ConsumerFactory

SEED_SCORES = [2, 4, 4, 4, 5, 5, 7, 9]
THREE_LEVELS = [
    {"key": "district", "label": "District"},
    {"key": "school", "label": "School"},
    {"key": "class", "label": "Class"},
]


@pytest.fixture(autouse=True)
def dataset_storage(settings, tmp_path, monkeypatch):
    """Dataset files in a folder of the test's own (a worker subprocess finds it through the environment)."""
    root = tmp_path / "datasets"
    monkeypatch.setenv("TALLY_DATASETS_ROOT", str(root))
    settings.STORAGES = {
        **settings.STORAGES,
        "datasets": {**settings.STORAGES["datasets"], "OPTIONS": {"location": str(root)}},
    }
    return root


@pytest.fixture
def consumer(db):
    return ConsumerFactory(consumer_key="yis0TYCu7U9V4o7M")


def security_for(consumer, **extra) -> dict:
    return {
        "consumer_key": consumer.consumer_key,
        "domain": "localhost",
        "timestamp": datetime.now(UTC).strftime("%Y%m%d-%H%M"),
        **extra,
    }


def signed_form(consumer, request: dict, action: str, *, secret: str | None = None, **security) -> dict:
    """The form the learnosity-sdk package posts for this call (its own Init signs it)."""
    return Init(
        "data", security_for(consumer, **security), secret or consumer.consumer_secret, request, action
    ).generate()


def data_api(client, path: str, form: dict):
    """POST a Data API form as the SDK does (form-encoded); the response."""
    return client.post(path, urlencode(form), content_type="application/x-www-form-urlencoded")


def dataset_request(**overrides) -> dict:
    return {
        "dataset_type": "sessions-summary-by-group",
        "dataset_id": str(uuid.uuid4()),
        "file_count": 1,
        "options": {"fields": ["population", "mean_score"], "user_fields": ["score", "max_score"]},
        "groups": THREE_LEVELS,
        **overrides,
    }


def local_path(url: str) -> str:
    return urlsplit(url).path


def ndjson(lines: list[dict]) -> bytes:
    return "\n".join(json.dumps(line) for line in lines).encode()


@pytest.fixture
def build_queue(request, settings):
    """Where dataset builds run: in-process without a broker; with one, a real worker process on a queue of the
    test's own (its fixture needs PostgreSQL)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    queue = request.getfixturevalue("celery_worker_queue")
    settings.DATASETS_QUEUE = queue
    return queue


def seed_lines() -> list[dict]:
    """The seed's scores 2, 4, 4, 4, 5, 5, 7, 9 (of 10) for eight users in two districts."""
    return [
        {"user_id": f"u{n}", "session_id": [f"s{n}"], "group_path": [f"D{n % 2}", "School", f"Class {n % 4}"]}
        for n in range(len(SEED_SCORES))
    ]


@pytest.fixture
def seed_sessions(db):
    from apps.datasets.tests.factories import SessionFactory

    return [SessionFactory(session_id=f"s{n}", user_id=f"u{n}", score=score) for n, score in enumerate(SEED_SCORES)]


@pytest.fixture
def seed_dataset_files(consumer, seed_sessions) -> dict[tuple, bytes]:
    """The seed's dataset created, uploaded and built through the services: its page-1 files by group path."""
    from apps.datasets.aggregation import KEY_SEPARATOR
    from apps.datasets.models import DatasetOutputFile
    from apps.datasets.selectors import output_document_bytes
    from apps.datasets.services import dataset_build, dataset_create, dataset_file_upload
    from apps.datasets.spec import DEFAULT_FIELDS, dataset_spec_parse

    spec = dataset_spec_parse(dataset_request(options={"fields": DEFAULT_FIELDS}))
    dataset_create(consumer=consumer, spec=spec)
    dataset_file_upload(dataset_id=spec.dataset_id, index=0, content=ndjson(seed_lines()))
    assert dataset_build(dataset_id=spec.dataset_id).status == "completed"
    return {
        tuple(filter(None, output.key.split(KEY_SEPARATOR))): output_document_bytes(output_file=output)
        for output in DatasetOutputFile.objects.filter(page=1)
    }
