"""Celery beat's scheduler, holding on to a run it could not send.

Beat marks an entry as run before it sends it: when the broker is away at that moment the run is lost until the
entry's next time (the next night, for the nightly rollup). Here an entry whose send failed stays due, and beat
tries it again every RETRY_SECONDS, so that it is sent once the broker is back, once.
"""

import logging
import time

from celery.beat import PersistentScheduler

logger = logging.getLogger(__name__)


class RetryingScheduler(PersistentScheduler):
    retry_seconds = 5.0

    def apply_entry(self, entry, producer=None):
        try:
            self.apply_async(entry, producer=producer, advance=False)
        except Exception as exc:  # beat's own handler logs and forgets any failure; this one keeps the run
            logger.warning("beat could not send %s, which stays due: %s", entry.name, exc)
            self.schedule[entry.name] = entry  # as it was before beat reserved it: due
            self._heap = None  # rebuilt from the schedule on the next tick
            time.sleep(self.retry_seconds)
