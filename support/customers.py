"""Reads behind the customer lookup: what cxhub told one customer, on which device, when.

The call-centre question "was I affected, what did you send me, when?" is answered
from the push ledger (one row per device and incident), the cancelled batches that
held the customer's devices, and the incidents of the services the customer uses.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Prefetch

from actions.models import TriggerRule
from incidents.models import Incident
from notifications.models import Customer, Delivery, Device, PushRecord

# How far back the lookup lists incidents of the customer's services that pushed nothing.
SERVICE_INCIDENTS_DAYS = 30
MAX_INCIDENTS = 50
# Cancelled batches are rare (kill switch, reopen); only the latest are scanned.
MAX_CANCELLED_BATCHES = 500


@dataclass
class Push:
    purpose: str  # outage, all_clear
    purpose_label: str
    status: str  # sent, pending, failed, capped, cancelled
    status_label: str
    token_tail: str
    platform: str
    message: str
    error: str
    at: datetime
    sent_at: datetime | None


@dataclass
class IncidentStory:
    incident: Incident
    pushes: list[Push] = field(default_factory=list)

    @property
    def outage(self) -> list[Push]:
        return [p for p in self.pushes if p.purpose == PushRecord.Purpose.OUTAGE]

    @property
    def all_clear(self) -> list[Push]:
        return [p for p in self.pushes if p.purpose == PushRecord.Purpose.ALL_CLEAR]


def customer_find(external_id: str) -> Customer | None:
    """Return the customer with this external id, with services, tags and devices."""
    return (
        Customer.objects.filter(external_id=external_id.strip())
        .prefetch_related("services", "tags", Prefetch("devices", Device.objects.order_by("id")))
        .first()
    )


def customer_story(customer: Customer, *, now: datetime) -> list[IncidentStory]:
    """Return the incidents that concerned the customer, newest first, with each push."""
    stories: dict = {}

    def story(incident) -> IncidentStory:
        return stories.setdefault(incident.pk, IncidentStory(incident=incident))

    records = (
        PushRecord.objects.filter(customer=customer)
        .select_related("incident__action")
        .order_by("-created_at")[: MAX_INCIDENTS * 10]
    )
    for r in records:
        story(r.incident).pushes.append(
            Push(
                purpose=r.purpose,
                purpose_label=r.get_purpose_display(),
                status=r.status,
                status_label=r.get_status_display(),
                token_tail=r.token_tail,
                platform=r.platform,
                message=r.message,
                error=r.error,
                at=r.created_at,
                sent_at=r.sent_at,
            )
        )
    devices = {d.pk: d for d in customer.devices.all()}
    cancelled = (
        Delivery.objects.filter(
            purpose__in=[Delivery.Purpose.PUSH, Delivery.Purpose.ALL_CLEAR],
            status=Delivery.Status.CANCELLED,
            incident__isnull=False,
        )
        .select_related("incident__action")
        .order_by("-created_at")[:MAX_CANCELLED_BATCHES]
    )
    for batch in cancelled:
        for device_id in set(batch.recipients) & devices.keys():
            device = devices[device_id]
            outage = batch.purpose == Delivery.Purpose.PUSH
            story(batch.incident).pushes.append(
                Push(
                    purpose=PushRecord.Purpose.OUTAGE if outage else PushRecord.Purpose.ALL_CLEAR,
                    purpose_label=(
                        PushRecord.Purpose.OUTAGE.label
                        if outage
                        else PushRecord.Purpose.ALL_CLEAR.label
                    ),
                    status=Delivery.Status.CANCELLED,
                    status_label=Delivery.Status.CANCELLED.label,
                    token_tail=device.token[-8:],
                    platform=device.platform,
                    message=batch.message,
                    error=batch.last_error,
                    at=batch.created_at,
                    sent_at=None,
                )
            )
    # Incidents of the customer's services that pushed nobody still concerned them.
    services = [s.pk for s in customer.services.all()]
    if services:
        nearby = (
            Incident.objects.filter(
                action__in=TriggerRule.objects.filter(service__in=services).values("action"),
                opened_at__gte=now - timedelta(days=SERVICE_INCIDENTS_DAYS),
            )
            .select_related("action")
            .order_by("-opened_at")[:MAX_INCIDENTS]
        )
        for incident in nearby:
            story(incident)
    ordered = sorted(stories.values(), key=lambda s: s.incident.opened_at, reverse=True)
    for s in ordered:
        s.pushes.sort(key=lambda p: (p.at, p.purpose))
    return ordered[:MAX_INCIDENTS]
