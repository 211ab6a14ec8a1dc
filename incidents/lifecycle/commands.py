"""What people (and stateful senders) do to an incident: acknowledge, silence, maintenance.

Resolve lives in `resolution` (the quiet period needs it below evaluation);
`operations` maps each of these to the permission it needs.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from actions.models import Action
from incidents.history.texts import detail
from incidents.history.timeline import event_add
from incidents.lifecycle.evaluation import incident_evaluate
from incidents.lifecycle.resolution import incident_resolve
from incidents.models import Incident, MaintenanceWindow, TimelineEvent
from incidents.outreach.paging import teams_tell

Kind = TimelineEvent.Kind

__all__ = [
    "incident_acknowledge",
    "incident_resolve",
    "incident_silence",
    "maintenance_end",
    "maintenance_saved",
]


def incident_acknowledge(*, incident_id, by: str, note: str = "", now=None) -> bool:
    """Stop further tier pages for an open incident and tell the paged teams.

    Return whether it changed (False: not open, i.e. acknowledged or resolved).
    """
    now = now or timezone.now()
    with transaction.atomic():
        changed = Incident.objects.filter(pk=incident_id, status=Incident.Status.OPEN).update(
            status=Incident.Status.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=by
        )
        if changed:
            incident = Incident.objects.select_related("action").get(pk=incident_id)
            event = event_add(incident, TimelineEvent.Kind.ACKNOWLEDGED, note, actor=by, at=now)
            teams_tell(incident, event, now=now)
            # Looks again at the quiet period and the acknowledgement timeout.
            incident_evaluate(incident, now=now)
    return bool(changed)


def incident_silence(*, incident_id, minutes: int, by: str, note: str = "", now=None) -> bool:
    """Hold the pages of an unresolved incident for `minutes` (0 ends a silence).

    Occurrences still count and the customer push still goes out. Return whether
    anything changed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update()
            .select_related("action")
            .exclude(status=Incident.Status.RESOLVED)
            .filter(pk=incident_id)
            .first()
        )
        if incident is None:
            return False
        mine = Incident.objects.filter(pk=incident.pk)
        if minutes:
            until = now + timedelta(minutes=minutes)
            mine.update(silenced_until=until, silenced_by=by)
            incident.silenced_until, incident.silenced_by = until, by
            event_add(
                incident,
                Kind.SILENCED,
                detail("silenced_note", minutes=minutes, until=until, note=note)
                if note
                else detail("silenced", minutes=minutes, until=until),
                actor=by,
                at=now,
            )
        else:
            if incident.silenced_until is None:
                return False
            mine.update(silenced_until=None, silenced_by="")
            incident.silenced_until, incident.silenced_by = None, ""
            event_add(
                incident,
                Kind.SILENCE_ENDED,
                detail("silence_ended_note", note=note) if note else detail("silence_ended"),
                actor=by,
                at=now,
            )
        incident_evaluate(incident, now=now)
    return True


def _covered_incidents(window: MaintenanceWindow):
    if window.action_id:
        covered = Q(action_id=window.action_id)
    else:
        covered = Q(action__in=Action.objects.filter(rules__service_id=window.service_id))
    return Incident.objects.exclude(status=Incident.Status.RESOLVED).filter(covered)


def maintenance_saved(window: MaintenanceWindow, *, now=None) -> int:
    """Have the sweep look now at incidents a new or changed window covers or held.

    Holding needs no scheduling (evaluation asks for the active window), but a
    window that already runs marks its incidents at once, and a window shortened
    releases them at once rather than at its old end.
    """
    now = now or timezone.now()
    affected = Incident.objects.exclude(status=Incident.Status.RESOLVED).filter(
        maintenance=window, maintenance_until__isnull=False
    )
    if window.starts_at <= now < window.ends_at:
        affected = affected | _covered_incidents(window)
    return affected.update(next_check_at=now)


def maintenance_end(*, window_id, by: str, now=None) -> bool:
    """End a running window now, or cancel one not started; return whether it changed."""
    now = now or timezone.now()
    with transaction.atomic():
        window = MaintenanceWindow.objects.select_for_update().filter(pk=window_id).first()
        if window is None or window.ends_at <= now:
            return False
        if window.starts_at > now:
            window.delete()
            return True
        MaintenanceWindow.objects.filter(pk=window.pk).update(ends_at=now, ended_early_by=by)
        window.ends_at, window.ended_early_by = now, by
        maintenance_saved(window, now=now)
    return True
