"""`make bench`: base plus the bench app (its `bench` command and generators) and its URLconf, which serves the
bare-Django baseline view beside Tally's own URLs. No production process loads this module."""

from config.settings.base import *  # noqa: F403
from config.settings.base import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "apps.bench"]
ROOT_URLCONF = "apps.bench.urls"

# Tasks that the measured ingests queue (activity refreshes) go to a queue of the bench's own, which no worker
# consumes and which each run empties when it ends (apps.bench.serving.leftovers_clear).
BENCH_QUEUE = "bench"
CELERY_TASK_DEFAULT_QUEUE = DATASETS_QUEUE = BENCH_QUEUE
