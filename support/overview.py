"""What is open now, for the admin home: incidents, held batches, approvals waiting."""

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from incidents.models import Incident, PushApproval
from notifications.models import Delivery

SHOWN = 10
CUSTOMER_PURPOSES = [Delivery.Purpose.PUSH, Delivery.Purpose.ALL_CLEAR, Delivery.Purpose.FALLBACK]


@dataclass(frozen=True)
class Overview:
    incidents: list
    incidents_total: int
    held: list
    held_total: int
    approvals: list
    approvals_total: int


def open_now(user, *, now=None) -> Overview:
    """Return what is open now, each part only for someone who may see it."""
    now = now or timezone.now()
    incidents = held = approvals = Incident.objects.none()
    if user.has_perm("incidents.view_incident"):
        incidents = (
            Incident.objects.exclude(status=Incident.Status.RESOLVED)
            .select_related("action")
            .order_by("-opened_at")
        )
    if user.has_perm("notifications.view_delivery"):
        # A customer batch waiting past now: quiet hours, a maintenance window, the rate
        # limit. A held batch is pending with a due time still ahead.
        held = (
            Delivery.objects.filter(
                purpose__in=CUSTOMER_PURPOSES,
                status=Delivery.Status.PENDING,
                due_at__gt=now,
            )
            .filter(Q(incident__isnull=True) | ~Q(incident__status=Incident.Status.RESOLVED))
            .select_related("incident__action")
            .order_by("due_at")
        )
    if user.has_perm("incidents.view_pushapproval"):
        approvals = (
            PushApproval.objects.filter(status=PushApproval.Status.PENDING)
            .select_related("incident__action")
            .order_by("requested_at")
        )
    return Overview(
        incidents=list(incidents[:SHOWN]),
        incidents_total=incidents.count(),
        held=list(held[:SHOWN]),
        held_total=held.count(),
        approvals=list(approvals[:SHOWN]),
        approvals_total=approvals.count(),
    )
