"""Demo data of datasets: assessment sessions of the demo learners, and a dataset over the first demo organisation's
subtree (departments, classes), built from Tally's own groups."""

import random
import uuid
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from apps.datasets.models import Consumer, Dataset, Session
from apps.datasets.services import consumer_create, dataset_create
from apps.datasets.spec import dataset_spec_parse
from apps.groups.models import Group

DEMO_ACTIVITIES = [f"demo-activity-{n}" for n in range(1, 7)]
DEMO_CONSUMER = "demo"
DEMO_DATASET_ID = uuid.UUID("5e55e5e5-0000-4000-8000-000000000001")
NAMESPACE = uuid.UUID("0b7c6f1e-2b43-4a57-9d8e-3f1f4c1d2a10")


def _demo_sessions(rng: random.Random, user_ids: list[str]) -> list[Session]:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    sessions = []
    for user_id in user_ids:
        for activity_id in rng.sample(DEMO_ACTIVITIES, k=rng.randint(1, 4)):
            max_score = float(rng.choice((10, 20, 25)))
            attempted = max_score * rng.choice((1.0, 1.0, 0.8, 0.6))
            sessions.append(
                Session(
                    session_id=str(uuid.uuid5(NAMESPACE, f"{user_id}/{activity_id}")),
                    user_id=user_id,
                    activity_id=activity_id,
                    score=round(rng.uniform(0, attempted), 1),
                    max_score=max_score,
                    attempted_max_score=attempted,
                    unscored_max_score=0.0,
                    status="Completed",
                    dt_completed=start + timedelta(minutes=rng.randint(0, 60 * 24 * 60)),
                )
            )
    return sessions


@transaction.atomic
def demo_datasets_seed(*, progress) -> int:
    """Sessions for learner001..learner200 (their public ids as user ids), a `demo` consumer and one dataset over
    the first demo organisation. Idempotent: returns how many rows were new."""
    rng = random.Random(20261129)
    learners = get_user_model().objects.filter(username__startswith="learner").order_by("username")
    sessions = _demo_sessions(rng, [str(public_id) for public_id in learners.values_list("public_id", flat=True)])
    before = Session.objects.count()
    Session.objects.bulk_create(sessions, batch_size=2000, ignore_conflicts=True)
    created = Session.objects.count() - before
    consumer = Consumer.objects.filter(name=DEMO_CONSUMER).first() or consumer_create(name=DEMO_CONSUMER)
    root = Group.objects.filter(parent=None).order_by("id").first()
    if root is not None and not Dataset.objects.filter(dataset_id=DEMO_DATASET_ID).exists():
        spec = dataset_spec_parse(
            {
                "dataset_type": "sessions-summary-by-group",
                "dataset_id": str(DEMO_DATASET_ID),
                "group_source": str(root.public_id),
                "groups": [{"key": "department", "label": "Department"}, {"key": "class", "label": "Class"}],
            }
        )
        dataset_create(consumer=consumer, spec=spec)
        created += 1
    progress.set_postfix_str(f"datasets: {created} rows")
    return created
