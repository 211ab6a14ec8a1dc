"""Why a customer push has not gone yet, and when it will: held is a state support can see.

A batch is held when it is pending with a due time still to come (the customers'
night, the provider's send-rate slot, a retry); an incident's whole push is held
while it waits for a second person's approval or a maintenance window. The same
words on the customer lookup, the incident page and the ledger.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from incidents.models import Incident, PushApproval
from notifications.models import Delivery

REASONS = {
    "quiet_hours": _("quiet hours: waits for the customers' morning"),
    "send_rate": _("send rate: waits for the provider's slot"),
    "retry": _("retry after an error"),
    "approval": _("waits for a second person's approval"),
    "maintenance": _("maintenance window"),
}


@dataclass(frozen=True)
class Held:
    reason: str  # a key of REASONS
    due_at: datetime | None  # None: when someone decides (approval)

    @property
    def label(self) -> str:
        return str(REASONS[self.reason])


def batch_held(delivery: Delivery, *, now: datetime) -> Held | None:
    """Return why a pending batch waits past `now`, and until when; None if it is not held."""
    if delivery.status != Delivery.Status.PENDING or delivery.due_at <= now:
        return None
    if delivery.quiet_hours == "held" and not delivery.attempts:
        return Held("quiet_hours", delivery.due_at)
    if delivery.rate_slot_at is not None:
        return Held("send_rate", delivery.due_at)
    return Held("retry", delivery.due_at)


def incident_push_held(incident: Incident, *, now: datetime) -> Held | None:
    """Return why an incident's whole push waits (approval, maintenance), or None."""
    approval = PushApproval.objects.filter(
        incident=incident, status=PushApproval.Status.PENDING
    ).first()
    if approval is not None:
        return Held("approval", approval.expires_at)
    if (
        incident.push_queued_at is None
        and incident.maintenance_until
        and incident.maintenance_until > now
        and not incident.is_resolved
    ):
        return Held("maintenance", incident.maintenance_until)
    return None
