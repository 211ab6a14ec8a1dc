"""Gunicorn's access log without credentials: `--logger-class cxhub.gunicorn.RedactingLogger`.

Senders that cannot set headers put their token in the URL path, and the access
log line would keep it; this logger writes the path with the token replaced,
and no credential-like request header.
"""

import logging
import os
import time

from gunicorn.glogging import Logger

from cxhub import redact
from cxhub.logs import PlainFormatter, log_time

QUERY_ATOMS = ("q", "{query_string}e")


class RedactingLogger(Logger):
    # gunicorn's own lines in cxhub's one time format (ISO 8601, milliseconds, offset).
    error_fmt = "%(asctime)s %(levelname)s gunicorn [%(process)d] %(message)s"

    def setup(self, cfg):
        # The master logs before any worker loads the app: the same settings give it
        # the same time zone.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")
        super().setup(cfg)

    def now(self):
        return f"[{log_time(time.time())}]"

    def _set_handler(self, log, output, fmt, stream=None):
        if type(fmt) is logging.Formatter and fmt._fmt == self.error_fmt:
            fmt = PlainFormatter(self.error_fmt)
        return super()._set_handler(log, output, fmt, stream)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name, value in atoms.items():
            if not isinstance(value, str) or not value:
                continue
            if name.startswith("{") and redact.SECRET_FIELD.search(name):
                atoms[name] = redact.REDACTED  # {authorization}i, {cookie}i ...
            elif name in QUERY_ATOMS:
                atoms[name] = redact.query(value)
            else:
                atoms[name] = redact.url(value)
        return atoms
