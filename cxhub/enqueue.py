"""Enqueue Celery tasks once the surrounding transaction commits."""

import logging

from django.db import transaction

logger = logging.getLogger("cxhub.enqueue")


def enqueue_on_commit(task, *args, **options) -> None:
    """Send `task` after commit; a broker outage only logs, the beat sweep catches up.

    The rows the task works on are already committed, so a lost message costs at
    most one sweep interval of delay, never the work itself.
    """

    def send():
        try:
            task.apply_async(args=args, **options)
        except Exception:
            logger.warning("Broker unavailable; %s%r left to the sweep", task.name, args)

    transaction.on_commit(send)
