"""Log formatting: one time format, JSON lines for log shippers (CXHUB_LOG_FORMAT=json),
credentials redacted, and beat's routine bookkeeping kept out of the way.
"""

import json
import logging
import re
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

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


class ClientErrorFilter(logging.Filter):
    """Log a refused request (a 4xx) as its one line, without the exception's traceback.

    Django attaches the PermissionDenied or SuspiciousOperation it turned into the 403
    or 400 to the record; its traceback says nothing the line does not, and buries
    the lines that matter. A 5xx keeps its traceback.
    """

    def filter(self, record):
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info, record.exc_text = None, None
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


def _zone():
    from django.conf import settings

    try:
        return ZoneInfo(settings.TIME_ZONE)
    except (ImproperlyConfigured, ZoneInfoNotFoundError):
        return None  # settings not loaded: the process's own zone


def log_time(created: float) -> str:
    """Say a record's moment as ISO 8601 with milliseconds and the offset (TIME_ZONE).

    The one time format of every cxhub log line, web, worker and beat alike.
    """
    moment = datetime.fromtimestamp(created, UTC).astimezone(_zone())
    return moment.isoformat(timespec="milliseconds")


class PlainFormatter(logging.Formatter):
    """`<ISO time> <LEVEL> <logger> <message>`: the plain format with the one time format."""

    def __init__(self, fmt="%(asctime)s %(levelname)s %(name)s %(message)s", **kwargs):
        super().__init__(fmt, **kwargs)

    def formatTime(self, record, datefmt=None):
        return log_time(record.created)


# Celery's lines about a task that beat scheduled: beat sending it, a worker receiving it,
# and its success. They come every few seconds and say nothing happened.
ROUTINE_LOGGERS = {"celery.beat", "celery.worker.strategy", "celery.app.trace"}
# A return value that says nothing was done: {'reports': 0, 'incidents': 0, ...}, 0, None.
NOTHING_DONE = re.compile(r"\{(?:'\w+': 0(?:, )?)*\}|0|None|\[\]")


def routine_task_names() -> set[str]:
    from django.conf import settings

    return {entry["task"] for entry in getattr(settings, "CELERY_BEAT_SCHEDULE", {}).values()}


class RoutineFilter(logging.Filter):
    """Keep Celery's bookkeeping at DEBUG: at most one INFO line a minute about it.

    A task's "received" and "succeeded" lines are bookkeeping: a task that did
    something says so in its own lines (PUSH, PAGE, ...). Those of the tasks beat
    schedules are counted, and beat's first line of each minute becomes a summary
    of what it counted (only beat's: a worker's pool processes would each add one).
    A scheduled run that did something, a retry, a failure and every line a task
    logs itself pass untouched. With LOG_LEVEL=DEBUG every line passes, as DEBUG.
    """

    interval = 60.0

    def __init__(self, name=""):
        super().__init__(name)
        self.counted = 0
        self.last_summary = time.monotonic()

    def filter(self, record):
        if record.levelno != logging.INFO or record.name not in ROUTINE_LOGGERS:
            return True
        routine = self._routine(record)
        if not (routine or self._bookkeeping(record)):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            return True
        if not routine:
            return False
        self.counted += 1
        now = time.monotonic()
        if record.name != "celery.beat" or now - self.last_summary < self.interval:
            return False
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.msg = "Routine: %s scheduled task line(s) in the last %s s, nothing to report"
        record.args = (self.counted, round(now - self.last_summary))
        self.counted, self.last_summary = 0, now
        return True

    @staticmethod
    def _bookkeeping(record) -> bool:
        """Say whether a worker line only says an unscheduled task arrived or finished."""
        context = record.args if isinstance(record.args, dict) else {}
        if context.get("name") in routine_task_names():
            return False  # a scheduled run that did something
        if record.name == "celery.worker.strategy":
            return "name" in context
        return record.name == "celery.app.trace" and "return_value" in context

    @staticmethod
    def _routine(record) -> bool:
        names = routine_task_names()
        if record.name == "celery.beat":
            return (
                isinstance(record.args, tuple)
                and len(record.args) == 2
                and (record.args[1] in names)
            )
        context = record.args if isinstance(record.args, dict) else {}
        if context.get("name") not in names:
            return False
        if record.name == "celery.worker.strategy":
            return True
        return "return_value" in context and bool(
            NOTHING_DONE.fullmatch(str(context["return_value"]))
        )
