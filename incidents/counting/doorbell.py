"""Ring the worker to count waiting reports: at most once per short window per process.

A storm of one-trigger requests must not become a storm of tasks. A request
rings only if this process has not rung in the last CXHUB_DOORBELL_SECONDS; the
task it sends drains every waiting report and keeps looking until that window
has passed, so a report recorded just after a ring is counted by the drain that
ring started. The sweep remains the safety net for a lost message.
"""

import threading
import time

from django.conf import settings

from cxhub.enqueue import enqueue_on_commit

REPORTS_DRAIN = "incidents.tasks.reports_drain"
REPORTS_QUEUE = "reports"

_lock = threading.Lock()
_last_rung = 0.0


def ring_on_commit() -> bool:
    """Ask a worker to drain waiting reports after commit, unless rung just now."""
    global _last_rung
    window = settings.CXHUB_DOORBELL_SECONDS
    now = time.time()
    with _lock:
        if now - _last_rung < window:
            return False
        _last_rung = now
    enqueue_on_commit(REPORTS_DRAIN, now + window, queue=REPORTS_QUEUE)
    return True


def ring_now() -> None:
    """Ask a worker to drain (from the sweep or a drain out of time): no window."""
    enqueue_on_commit(REPORTS_DRAIN, time.time(), queue=REPORTS_QUEUE)
