"""What the delivery engine reports back, applied to incidents (connected in apps.ready)."""

from django.db import models

from incidents.history.texts import Detail, choice, detail
from incidents.history.timeline import event_add
from incidents.models import TimelineEvent
from incidents.outreach.pushes import action_push_stopped, all_clear_if_resolved, fallback_if_failed
from notifications.models import Delivery, PushRecord
from oncall.selectors import person_name

_KINDS = {
    "sent": TimelineEvent.Kind.DELIVERY_SENT,
    "failed": TimelineEvent.Kind.DELIVERY_FAILED,
    "retry": TimelineEvent.Kind.DELIVERY_RETRY,
}


def on_delivery_recorded(sender, *, delivery, outcome, at, error="", **kwargs):
    """Put a send attempt of an incident's delivery on its timeline."""
    if delivery.incident_id:
        event_add(
            delivery.incident, _KINDS[outcome], delivery_detail(delivery, outcome, error), at=at
        )


def delivery_detail(delivery, outcome: str, error: str) -> Detail:
    """Describe a send attempt: what was sent, and its counts or its error."""
    purpose = choice("delivery_purpose", delivery.purpose)
    push = delivery.purpose in (Delivery.Purpose.PUSH, Delivery.Purpose.ALL_CLEAR)
    devices = len(delivery.recipients)
    # The ledger rows of a batch are the truth of what it reached.
    records = PushRecord.objects.filter(delivery=delivery)
    if delivery.purpose == Delivery.Purpose.FALLBACK:
        # Recipients are customers, the provider is the channel (sms, email).
        if outcome != "sent":
            what = detail("fallback_batch", channel=delivery.provider, customers=devices)
        else:
            return detail(
                "fallback_batch_sent",
                channel=delivery.provider,
                customers=devices,
                **_counts(records),
            )
    elif delivery.person_id:
        what = _person_detail(delivery, purpose)
    elif not push:
        channel = delivery.channel.kind if delivery.channel else "?"
        what = detail("page_sent", purpose=purpose, team=str(delivery.team), channel=channel)
    elif outcome != "sent":
        what = detail("push_batch", purpose=purpose, devices=devices)
    else:
        if not records.exists():
            return detail("push_batch_empty", purpose=purpose, devices=devices)
        counts = _counts(records)
        if counts["capped"] and not (counts["sent"] or counts["failed"]):
            return detail(
                "push_batch_capped", purpose=purpose, devices=devices, capped=counts["capped"]
            )
        return detail(
            "push_batch_done",
            purpose=purpose,
            devices=devices,
            disabled=records.filter(status=PushRecord.Status.FAILED, device__enabled=False).count(),
            **counts,
        )
    if outcome == "sent":
        return what
    return detail("delivery_error", what=what, error=error, attempt=delivery.attempts)


def _person_detail(delivery, purpose) -> Detail:
    """Name the person a page (or a notice) went to, and by which contact method."""
    person = person_name(delivery.person)
    method = delivery.contact_method.get_kind_display() if delivery.contact_method else "?"
    if delivery.purpose == Delivery.Purpose.PAGE and delivery.tier_level:
        return detail("person_paged", person=person, method=method, level=delivery.tier_level)
    return detail("person_told", purpose=purpose, person=person, method=method)


def _counts(records) -> dict:
    rows = records.order_by().values("status").annotate(n=models.Count("id"))
    by_status = {row["status"]: row["n"] for row in rows}
    return {
        "sent": by_status.get(PushRecord.Status.SENT, 0),
        "failed": by_status.get(PushRecord.Status.FAILED, 0),
        "capped": by_status.get(PushRecord.Status.CAPPED, 0),
    }


def on_push_batch_finished(sender, *, delivery, at, **kwargs):
    all_clear_if_resolved(delivery, now=at)
    fallback_if_failed(delivery, now=at)


def on_push_blocked(sender, *, delivery, **kwargs) -> str:
    return action_push_stopped(delivery)


def connect() -> None:
    from notifications import signals

    signals.delivery_recorded.connect(on_delivery_recorded, dispatch_uid="incidents.timeline")
    signals.push_batch_finished.connect(on_push_batch_finished, dispatch_uid="incidents.all_clear")
    signals.push_blocked.connect(on_push_blocked, dispatch_uid="incidents.kill_switch")
