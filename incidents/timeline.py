"""The incident's history: every step the pipeline takes is a timeline event."""

from datetime import datetime

from django.utils import timezone

from incidents.models import TimelineEvent


def event_add(incident, kind, detail="", *, actor="cxhub", at=None) -> TimelineEvent:
    return TimelineEvent.objects.create(
        incident=incident, kind=kind, detail=detail, actor=actor, at=at or timezone.now()
    )


def local_time(at: datetime) -> str:
    """Format a time for a history line, in the server's time zone with its name."""
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M %Z}"
