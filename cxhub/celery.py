"""Celery application: configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")

app = Celery("cxhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**kwargs):
    """Log through Django's LOGGING, not Celery's own handlers.

    Celery would replace the root handlers, and with them the console handler's
    RedactFilter: Apprise's URLs (passwords), tokens in paths and acknowledge links'
    signatures would reach the worker's log in clear.
    """
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
