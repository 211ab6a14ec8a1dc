"""What the delivery engine reports back, applied to incidents (connected in apps.ready)."""

from incidents.history.texts import Detail, choice, detail
from incidents.history.timeline import event_add
from incidents.models import TimelineEvent
from incidents.outreach.pushes import action_push_stopped, all_clear_if_resolved, fallback_if_failed
from notifications.models import Delivery, PushRecord

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
    if not push:
        channel = delivery.channel.kind if delivery.channel else "?"
        what = detail("page_sent", purpose=purpose, team=str(delivery.team), channel=channel)
    elif outcome != "sent":
        what = detail("push_batch", purpose=purpose, devices=devices)
    else:
        # The ledger rows of this batch are the truth of what it reached.
        records = PushRecord.objects.filter(delivery=delivery)
        if not records.exists():
            return detail("push_batch_empty", purpose=purpose, devices=devices)
        failed = records.filter(status=PushRecord.Status.FAILED)
        return detail(
            "push_batch_sent",
            purpose=purpose,
            devices=devices,
            sent=records.filter(status=PushRecord.Status.SENT).count(),
            failed=failed.count(),
            disabled=failed.filter(device__enabled=False).count(),
        )
    if outcome == "sent":
        return what
    return detail("delivery_error", what=what, error=error, attempt=delivery.attempts)


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
