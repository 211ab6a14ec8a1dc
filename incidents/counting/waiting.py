"""The reports waiting to be counted, read from the day of the oldest one.

On PostgreSQL reports are partitioned by day, and a claim that names no day plans
every partition: 18 ms of planning for a 200-report claim on a seeded year (about 370
partitions), 0.3 ms when it names where to start. The sweep looks at every waiting
report anyway, so it notes when the oldest one was received; the drains' claims read
from there, less a margin for requests that took their time to commit. A report
committed later still with an earlier time is below the note until the next sweep
(seconds), whose note includes it: nothing is skipped for longer than that. Without a
note (none yet, the cache unreachable, or the sweep silent past NOTE_SECONDS) a claim
reads every day, as before.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.core.cache import cache

from incidents.models import Report

logger = logging.getLogger("cxhub.counting")

NOTE_KEY = "cxhub:reports:waiting-since"
# A request records its report's time before its commit: this covers a slow commit.
MARGIN = timedelta(minutes=5)
# A note older than this (the sweep stopped) is not trusted: claims read every day.
NOTE_SECONDS = 60


def reports_waiting():
    """Reports not counted yet (from the noted day when there is a note)."""
    waiting = Report.objects.filter(processed_at__isnull=True)
    since = _noted()
    return waiting if since is None else waiting.filter(received_at__gte=since)


def waiting_since_note(oldest: datetime | None, *, now: datetime) -> None:
    """Note where the claims start: the oldest waiting report (or now), less the margin."""
    since = min(oldest or now, now) - MARGIN
    try:
        cache.set(NOTE_KEY, since.timestamp(), timeout=NOTE_SECONDS)
    except Exception as error:  # each cache backend has its own errors, with no common base
        logger.warning("could not note the oldest waiting report: %s", error)


def _noted() -> datetime | None:
    try:
        noted = cache.get(NOTE_KEY)
    except Exception as error:  # each cache backend has its own errors, with no common base
        logger.warning("could not read the oldest waiting report's note: %s", error)
        return None
    return None if noted is None else datetime.fromtimestamp(noted, tz=UTC)
