"""Reads behind the customer lookup: what cxhub told one customer, on which device, when.

The call-centre question "was I affected, what did you send me, when?" is answered
from the push ledger (one row per device and incident), the cancelled batches that
held the customer's devices, and the incidents of the services the customer uses.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from actions.models import TriggerRule
from incidents.models import Incident
from notifications.ledger import text_of
from notifications.models import Customer, Delivery, Device, PushRecord
from support.held import batch_held, incident_push_held

# How far back the lookup lists incidents of the customer's services that pushed nothing.
SERVICE_INCIDENTS_DAYS = 30
MAX_INCIDENTS = 50
# Cancelled batches are rare (kill switch, reopen); only the latest are scanned.
MAX_CANCELLED_BATCHES = 500
# Batches not sent yet, per incident that concerns the customer: held ones first.
MAX_PENDING_BATCHES = 2000


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
    due_at: datetime | None = None  # held: when it goes (None: when someone decides)


@dataclass
class IncidentStory:
    incident: Incident
    pushes: list[Push] = field(default_factory=list)
    held: object = None  # support.held.Held: the whole push waits (approval, maintenance)

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


def _held_add(customer, devices: dict, stories: dict, story, *, now) -> None:
    """Add the pushes and fallbacks not sent yet that name the customer, with why and when.

    A batch with ledger rows for the customer is already in the story (its rows); a
    push held as a whole (approval, maintenance) names no device yet.
    """
    recorded = set(
        PushRecord.objects.filter(customer=customer, incident_id__in=list(stories)).values_list(
            "delivery_id", flat=True
        )
    )
    pending = (
        Delivery.objects.filter(
            incident_id__in=list(stories),
            purpose__in=[Delivery.Purpose.PUSH, Delivery.Purpose.FALLBACK],
            status=Delivery.Status.PENDING,
        )
        .exclude(pk__in=recorded)
        .select_related("incident__action")
        .order_by("-quiet_hours", "due_at")[:MAX_PENDING_BATCHES]
    )
    for batch in pending:
        held = batch_held(batch, now=now)
        fallback = batch.purpose == Delivery.Purpose.FALLBACK
        if fallback:
            mine = [None] if customer.pk in batch.recipients else []
        else:
            mine = sorted(set(batch.recipients) & devices.keys())
        for device_id in mine:
            device = devices.get(device_id)
            story(batch.incident).pushes.append(
                Push(
                    purpose=PushRecord.Purpose.OUTAGE,
                    purpose_label=(
                        Delivery.Purpose.FALLBACK if fallback else PushRecord.Purpose.OUTAGE
                    ).label,
                    status="held" if held else Delivery.Status.PENDING,
                    status_label=str(_("Held")) if held else str(Delivery.Status.PENDING.label),
                    token_tail=device.token[-8:] if device else _contact_tail(customer, batch),
                    platform=device.platform if device else batch.provider,
                    message=text_of(batch, customer.locale, customer.time_zone),
                    error=held.label if held else "",
                    at=batch.created_at,
                    sent_at=None,
                    due_at=held.due_at if held else batch.due_at,
                )
            )
    for s in stories.values():
        held = incident_push_held(s.incident, now=now)
        if held and not s.pushes:
            s.held = held


def _contact_tail(customer, batch) -> str:
    contact = customer.phone if batch.provider == "sms" else customer.email
    return contact[-4:]


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
    nearby = []
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
    _held_add(customer, devices, stories, story, now=now)
    ordered = sorted(stories.values(), key=lambda s: s.incident.opened_at, reverse=True)
    for s in ordered:
        s.pushes.sort(key=lambda p: (p.at, p.purpose))
    return ordered[:MAX_INCIDENTS]
