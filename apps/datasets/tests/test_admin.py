"""Consumers, sessions, datasets, their input files, jobs and output files are in the admin; a secret is not."""

import pytest

from apps.common.testing.factories import SysadminFactory
from apps.datasets.models import Dataset

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["consumer", "session", "dataset", "datasetjob", "datasetoutputfile"])
def test_every_model_lists_in_the_admin(client, seed_dataset_files, model):
    client.force_login(SysadminFactory())

    response = client.get(f"/admin/datasets/{model}/")

    assert response.status_code == 200


def test_a_dataset_shows_its_job_and_input_files_and_a_consumer_hides_its_secret(client, seed_dataset_files, consumer):
    client.force_login(SysadminFactory())
    dataset = Dataset.objects.get()

    page = client.get(f"/admin/datasets/dataset/{dataset.pk}/change/").content.decode()
    consumer_page = client.get(f"/admin/datasets/consumer/{consumer.pk}/change/").content.decode()

    assert ("completed" in page, "infiles/0.ndjson" in page) == (True, True)
    assert consumer.consumer_secret not in consumer_page
