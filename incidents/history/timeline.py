"""The incident's history: every step the pipeline takes is a timeline event."""

from datetime import datetime

from django.utils import timezone

from incidents.history.texts import Detail
from incidents.models import TimelineEvent


def event_add(incident, kind, detail: "str | Detail" = "", *, actor="cxhub", at=None):
    """Add a timeline event; a Detail is kept as key and values, and in English.

    A plain string (a person's note) is stored as written and shown as is.
    """
    params = detail.as_json() if isinstance(detail, Detail) else {}
    return TimelineEvent.objects.create(
        incident=incident,
        kind=kind,
        detail=str(detail),
        params=params,
        actor=actor,
        at=at or timezone.now(),
    )


def local_time(at: datetime) -> str:
    """Format a time for a history line, in the server's time zone with its name."""
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M %Z}"
