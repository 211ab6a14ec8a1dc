"""Alertmanager's `truncatedAlerts` (its `max_alerts`): say on the timeline what was left out."""

from django.utils import timezone

from incidents.history.texts import detail
from incidents.history.timeline import event_add
from incidents.models import Incident, TimelineEvent


def truncation_note(report, *, now=None) -> int:
    """Note on the open incidents of a report's alerts how many alerts the sender left out.

    The left-out alerts are not identified (Alertmanager sends only a count), so
    they are not counted; they are when a later notification carries them. One
    note per incident and count, not one per re-sent notification. Return how
    many incidents got the note.
    """
    payload = report.payload if isinstance(report.payload, dict) else {}
    left_out = payload.get("truncatedAlerts")
    if isinstance(left_out, bool) or not isinstance(left_out, int) or left_out <= 0:
        return 0
    now = now or timezone.now()
    fingerprints = list(
        report.triggers.received_within([report.received_at])
        .exclude(fingerprint="")
        .values_list("fingerprint", flat=True)
    )
    incidents = (
        Incident.objects.exclude(status=Incident.Status.RESOLVED)
        .filter(alerts__integration=report.integration_id, alerts__fingerprint__in=fingerprints)
        .distinct()
    )
    note = detail("alerts_truncated", count=left_out)
    actor = report.integration.kind if report.integration else "cxhub"
    noted = 0
    for incident in incidents:
        already = incident.events.filter(
            kind=TimelineEvent.Kind.ALERTS_TRUNCATED, detail=str(note)
        ).exists()
        if not already:
            event_add(incident, TimelineEvent.Kind.ALERTS_TRUNCATED, note, actor=actor, at=now)
            noted += 1
    return noted
