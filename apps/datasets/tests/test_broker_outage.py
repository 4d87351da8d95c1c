"""The last upload while the broker is away: the file is in, the job fails with a message that says to commence it
again, and the client's commence, once the broker is back, queues the build."""

import json

import pytest
import redis
from django.db import transaction

from apps.datasets.models import DatasetJob, JobStatus
from apps.datasets.services import BUILD_UNQUEUED, dataset_create, dataset_file_upload, dataset_job_commence
from apps.datasets.spec import dataset_spec_parse
from apps.datasets.tests.conftest import dataset_request

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def test_an_upload_that_cannot_queue_its_build_fails_the_job_and_a_commence_queues_it(
    consumer, private_broker, settings
):
    settings.DATASETS_QUEUE = "test-datasets-outage"
    spec = dataset_spec_parse(dataset_request())
    with transaction.atomic():
        dataset_create(consumer=consumer, spec=spec)
    line = json.dumps({"user_id": "u1", "session_id": ["s1"], "group_path": ["d", "s", "c"]}).encode()

    private_broker.stop()
    dataset_file_upload(dataset_id=str(spec.dataset_id), index=0, content=line)
    after_upload = DatasetJob.objects.get()
    private_broker.start()
    with transaction.atomic():
        dataset_job_commence(consumer=consumer, dataset_id=str(spec.dataset_id))

    assert (after_upload.status, after_upload.error) == (JobStatus.FAILED, BUILD_UNQUEUED)
    assert DatasetJob.objects.get().status == JobStatus.PENDING
    assert redis.Redis.from_url(private_broker.url).llen(settings.DATASETS_QUEUE) == 1
