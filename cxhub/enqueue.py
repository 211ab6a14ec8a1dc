"""Enqueue Celery tasks once the surrounding transaction commits."""

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger("cxhub.enqueue")


def enqueue_on_commit(task_name: str, *args, on_failure=None, **options) -> None:
    """Send the task named `task_name` after commit; a broker outage only logs.

    Tasks are named, not imported, so a module that queues work never imports the
    module whose task does it (the tasks import the services, never the reverse).
    The rows the task works on are already committed, so a lost message costs at
    most one sweep interval of delay, never the work itself. `on_failure` runs when
    the broker refused the message (e.g. to mark the row as not queued).
    """

    def send():
        try:
            current_app.tasks[task_name].apply_async(args=args, **options)
        except Exception:
            logger.warning("Broker unavailable; %s%r left to the sweep", task_name, args)
            if on_failure is not None:
                on_failure()

    transaction.on_commit(send)
