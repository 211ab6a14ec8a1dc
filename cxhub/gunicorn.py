"""Gunicorn's access log without credentials: `--logger-class cxhub.gunicorn.RedactingLogger`.

Senders that cannot set headers put their token in the URL path, and the access
log line would keep it; this logger writes the path with the token replaced,
and no credential-like request header.
"""

from gunicorn.glogging import Logger

from cxhub import redact

QUERY_ATOMS = ("q", "{query_string}e")


class RedactingLogger(Logger):
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
