"""The reports waiting to be counted, read from the day of the oldest one.

On PostgreSQL reports are partitioned by day, and a read of waiting reports that names
no day plans every partition: 18 ms of planning for a 200-report claim on a seeded year
(about 370 partitions), 0.3 ms when it names where to start. So the sweep, when there
is no note, reads every day once, notes when the oldest waiting report was received
(less a margin for requests that took their time to commit), and until the note
expires (NOTE_SECONDS) the drains' claims and the sweep itself read from there. A
report committed later still with an earlier time is below the note until it expires;
the next full read includes it: nothing is skipped for longer than that. Without a
note (none yet, the cache unreachable) everything reads every day, as before.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.core.cache import cache

from incidents.models import Report

logger = logging.getLogger("cxhub.counting")

NOTE_KEY = "cxhub:reports:waiting-since"
# A request records its report's time before its commit: this covers a slow commit.
MARGIN = timedelta(minutes=5)
# How long a note holds: then the sweep reads every day again and notes afresh (a note
# of a stopped sweep expires too, and claims read every day).
NOTE_SECONDS = 300


# `reports_waiting`'s default: read the note.
NOTED = object()


def reports_waiting(since=NOTED):
    """Reports not counted yet, from `since` (default: the note; None: every day)."""
    waiting = Report.objects.filter(processed_at__isnull=True)
    if since is NOTED:
        since = waiting_since()
    return waiting if since is None else waiting.filter(received_at__gte=since)


def waiting_since_note(oldest: datetime | None, *, now: datetime) -> None:
    """Note where the claims start: the oldest waiting report (or now), less the margin."""
    since = min(oldest or now, now) - MARGIN
    try:
        cache.set(NOTE_KEY, since.timestamp(), timeout=NOTE_SECONDS)
    except Exception as error:  # each cache backend has its own errors, with no common base
        logger.warning("could not note the oldest waiting report: %s", error)


def waiting_since() -> datetime | None:
    """The note: where reads of waiting reports start, or None (read every day)."""
    try:
        noted = cache.get(NOTE_KEY)
    except Exception as error:  # each cache backend has its own errors, with no common base
        logger.warning("could not read the oldest waiting report's note: %s", error)
        return None
    return None if noted is None else datetime.fromtimestamp(noted, tz=UTC)
