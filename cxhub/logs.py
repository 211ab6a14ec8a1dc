"""Log formatting: JSON lines for log shippers (CXHUB_LOG_FORMAT=json), credentials redacted."""

import json
import logging
from datetime import UTC, datetime

from cxhub import redact


class RedactFilter(logging.Filter):
    """Replace credentials in log lines: URL tokens (django.request), URL passwords (Apprise)."""

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = redact.text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact.text(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact.text(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as `{"time", "level", "logger", "message", ...}` on one line."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
