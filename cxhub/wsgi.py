"""WSGI entry point (gunicorn cxhub.wsgi)."""

import logging
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")

application = get_wsgi_application()

# gunicorn runs no system checks: say here, once per process, what links would break.
from cxhub.checks import base_url_warnings  # noqa: E402 (needs the app registry)

for warning in base_url_warnings():
    logging.getLogger("cxhub").warning("%s %s", warning.msg, warning.hint)
