from apps.common.tasks import tally_task
from apps.datasets.services import dataset_build


@tally_task("datasets.build", soft_time_limit=50 * 60, time_limit=60 * 60)
def build_dataset(dataset_id: str) -> str:
    """Build a dataset's output files (apps.datasets.services.dataset_build). Idempotent on the dataset id;
    returns the job's status."""
    return dataset_build(dataset_id=dataset_id).status
