"""What the delivery engine reports back, applied to incidents (connected in apps.ready)."""

from incidents.models import TimelineEvent
from incidents.pushes import action_push_stopped, all_clear_if_resolved
from incidents.timeline import event_add

_KINDS = {
    "sent": TimelineEvent.Kind.DELIVERY_SENT,
    "failed": TimelineEvent.Kind.DELIVERY_FAILED,
    "retry": TimelineEvent.Kind.DELIVERY_RETRY,
}


def on_delivery_recorded(sender, *, delivery, outcome, detail, at, **kwargs):
    """Put a send attempt of an incident's delivery on its timeline."""
    if delivery.incident_id:
        event_add(delivery.incident, _KINDS[outcome], detail, at=at)


def on_push_batch_finished(sender, *, delivery, at, **kwargs):
    all_clear_if_resolved(delivery, now=at)


def on_push_blocked(sender, *, delivery, **kwargs) -> str:
    return action_push_stopped(delivery)


def connect() -> None:
    from notifications import signals

    signals.delivery_recorded.connect(on_delivery_recorded, dispatch_uid="incidents.timeline")
    signals.push_batch_finished.connect(on_push_batch_finished, dispatch_uid="incidents.all_clear")
    signals.push_blocked.connect(on_push_blocked, dispatch_uid="incidents.kill_switch")
