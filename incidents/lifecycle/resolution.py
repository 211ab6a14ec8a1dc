"""End an incident: stop escalation, tell the paged teams, cancel unsent pushes, all-clear.

Every path that resolves (a person, a monitoring "resolved", the quiet period)
calls `incident_resolve`; it sits below evaluation so that the quiet period can
resolve without evaluation importing the commands that call it.
"""

from django.db import transaction
from django.utils import timezone

from incidents.history.texts import Detail, detail
from incidents.history.timeline import event_add
from incidents.models import AlertInstance, Incident, TimelineEvent
from incidents.outreach.paging import teams_tell
from incidents.outreach.pushes import push_wind_down


def incident_resolve(*, incident_id, by: str, note: "str | Detail" = "", now=None) -> bool:
    """Resolve an incident: stop escalation, cancel unsent pushes, queue the all-clear."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = (
            Incident.objects.filter(pk=incident_id)
            .exclude(status=Incident.Status.RESOLVED)
            .update(
                status=Incident.Status.RESOLVED,
                resolved_at=now,
                resolved_by=by,
                next_check_at=None,
            )
        )
        if not changed:
            return False
        # Its alerts end with it: a PagerDuty or generic trigger for the same key
        # then opens a new incident, while an Alertmanager re-send (same startsAt)
        # still counts nothing.
        AlertInstance.objects.filter(
            incidents=incident_id, status=AlertInstance.Status.FIRING
        ).update(status=AlertInstance.Status.RESOLVED, resolved_at=now)
        incident = Incident.objects.select_related("action").get(pk=incident_id)
        event = event_add(incident, TimelineEvent.Kind.RESOLVED, note, actor=by, at=now)
        teams_tell(incident, event, now=now)
        cancelled, batches = push_wind_down(incident, now=now)
        if cancelled or batches:
            event_add(
                incident,
                TimelineEvent.Kind.ALL_CLEAR_QUEUED,
                detail("all_clear_queued", batches=batches, cancelled=cancelled),
                at=now,
            )
    return True
