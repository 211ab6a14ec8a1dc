"""Reads of incidents for the API, the admin and the lifecycle."""

from django.db.models import Q

from actions.models import TriggerRule
from incidents.models import MaintenanceWindow, Report, Trigger


def maintenance_covering(action_id, *, now) -> MaintenanceWindow | None:
    """Return the active maintenance window on the action or one of its services.

    When windows overlap, the one ending last: the incident is held until then.
    """
    services = TriggerRule.objects.filter(action_id=action_id).values("service_id")
    return (
        MaintenanceWindow.objects.filter(starts_at__lte=now, ends_at__gt=now)
        .filter(Q(action_id=action_id) | Q(service_id__in=services))
        .order_by("-ends_at")
        .first()
    )


def unmatched_triggers(*, service: str, code: str, since):
    """Firing triggers of a service/code that no action covered and nobody re-processed."""
    return Trigger.objects.filter(
        service=service,
        code=code,
        status=Trigger.Status.FIRING,
        matched=False,
        incident=None,
        reprocessed_at=None,
        received_at__gte=since,
    )


def incident_reports(incident, *, limit=50):
    """Return the latest reports whose triggers count toward or ended the incident."""
    return list(
        Report.objects.filter(triggers__incident=incident)
        .select_related("integration")
        .distinct()
        .order_by("-received_at")[:limit]
    )
