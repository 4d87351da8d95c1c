"""A build killed halfway (SIGKILL of the worker process) leaves no output reachable; the broker hands it to the next
worker, which completes it."""

import json
import time
import uuid

import pytest
from django.db import transaction
from django.test import RequestFactory

from apps.common.models import JobRun
from apps.common.services import ABANDONED
from apps.common.testing.fixtures import celery_worker_start, wait_for
from apps.datasets.api.signing import download_url
from apps.datasets.models import DatasetJob, DatasetOutputFile, Session
from apps.datasets.services import dataset_create, dataset_file_upload
from apps.datasets.spec import dataset_spec_parse
from apps.datasets.tests.conftest import THREE_LEVELS, dataset_request

pytestmark = [pytest.mark.postgres, pytest.mark.broker]


def _many_small_files(consumer) -> str:
    """A dataset of 6,000 users in 3,000 classes at one row a page: about 9,000 pages, a build that a test can
    interrupt before it ends."""
    users = [
        {"user_id": f"u{n}", "session_id": [f"s{n}"], "group_path": [f"d{n % 10}", f"s{n % 150}", f"c{n % 3000}"]}
        for n in range(6000)
    ]
    Session.objects.bulk_create(
        Session(
            session_id=f"s{n}",
            user_id=f"u{n}",
            activity_id="a",
            score=n % 11,
            max_score=10,
            attempted_max_score=10,
            unscored_max_score=0,
            status="Completed",
        )
        for n in range(6000)
    )
    options = {"fields": ["population", "mean_score"], "rows_per_page": 1}
    spec = dataset_spec_parse(dataset_request(groups=THREE_LEVELS, options=options))
    with transaction.atomic():
        dataset_create(consumer=consumer, spec=spec)
    return spec.dataset_id, "\n".join(json.dumps(user) for user in users).encode()


def test_a_build_killed_halfway_shows_nothing_and_the_next_worker_completes_it(
    transactional_db, consumer, dataset_storage, settings, private_broker
):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    settings.DATASETS_QUEUE = queue
    dataset_id, content = _many_small_files(consumer)
    worker = celery_worker_start(queue, broker_url=private_broker.url)
    try:
        # when the last upload starts the build and the worker is killed once the build's run is recorded (its work
        # under way in its transaction; a pack cut short mid-write is test_a_pack_cut_short_never_has_its_final_name)
        with transaction.atomic():
            dataset_file_upload(dataset_id=dataset_id, index=0, content=content)
        outfiles = next(dataset_storage.glob("*/*/")) / "outfiles"
        assert wait_for(lambda: JobRun.objects.filter(key=dataset_id).exists(), seconds=120, interval=0.005)
        worker.kill()
        worker.wait(timeout=30)
    finally:
        worker.kill()

    # then the job is not complete, and no page is reachable nor any pack of pages under its final name
    job = DatasetJob.objects.get()
    root_url = download_url(RequestFactory().get("/"), dataset_id=dataset_id, key="")
    assert job.status == "processing"
    assert not DatasetOutputFile.objects.exists()
    assert not list(outfiles.glob("*/pages"))
    assert _status(root_url) == 404

    # when a new worker starts once the delivery's visibility timeout has passed, it takes the build back from
    # the broker (the killed worker never acknowledged it)
    time.sleep(2)
    worker = celery_worker_start(queue, broker_url=private_broker.url, TALLY_CELERY_VISIBILITY_TIMEOUT_SECONDS="1")
    try:
        assert wait_for(lambda: DatasetJob.objects.get().status == "completed", seconds=300)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    # then every page is reachable in the one pack of the new attempt, which holds them all end to end
    (pack,) = outfiles.glob("*/*")
    pages = DatasetOutputFile.objects.all()
    assert pack.name == "pages"
    assert sum(page.length for page in pages) == pack.stat().st_size
    assert pages.count() > 9000
    assert _status(root_url) == 200
    runs = JobRun.objects.filter(key=dataset_id).order_by("pk")
    assert [(run.status, run.error) for run in runs] == [("failed", ABANDONED), ("succeeded", "")]


def _status(url: str) -> int:
    from django.test import Client

    return Client().get(url.removeprefix("http://testserver")).status_code
