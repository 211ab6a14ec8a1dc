"""What an incident tells customers: the outage push to its audience and the all-clear.

The texts are rendered here, per locale, and travel on the delivery; the engine
(notifications) only picks the closest locale per device and keeps the ledger.
Customers in their quiet hours wait for their morning unless the action is
critical; customers no push can reach get the action's fallback (SMS, e-mail).
"""

from django.conf import settings
from django.db import transaction

from actions.audiences import audience_of, texts_of
from actions.models import Action, Service
from actions.selectors import service_names
from incidents.models import Incident
from incidents.outreach.paging import incident_link
from notifications.deliveries import deliveries_queue
from notifications.fallback_ledger import customers_push_failed
from notifications.ledger import pushes_cancel_queued, sent_device_ids
from notifications.messages import LocalTime, render
from notifications.models import Delivery
from notifications.selectors import audience_parts, fallback_customers, parts_by_morning


def push_variables(incident) -> dict:
    """Return the values a push text may use: {service}, {action}, {started_at}, {link}."""
    service_ids = (incident.policy.get("audience") or {}).get("service_ids") or list(
        incident.action.rules.values_list("service_id", flat=True)
    )
    # Per language: the service's name there and that language's date form.
    return {
        "service": service_names(
            Service.objects.filter(pk__in=service_ids), default=incident.action.name
        ),
        "action": incident.action.name,
        "started_at": LocalTime(incident.opened_at),
        "link": incident_link(incident),
    }


def push_texts(incident, purpose: str) -> dict:
    """Return {"default": text, locale: text, ...} of `purpose`, rendered for the incident."""
    texts = (incident.policy.get("texts") or texts_of(incident.action)).get(purpose, {})
    variables = push_variables(incident)
    return {
        locale: render(text, variables, "" if locale == "default" else locale)
        for locale, text in texts.items()
    }


def _queue_batches(incident, device_ids, *, purpose, key_prefix, texts, now, quiet_hours="") -> int:
    """Cut a stream of device ids into push batches, queued 100 batches at a time.

    Batch numbers follow the stream's order, so a repeated fan-out produces the
    same keys and inserts nothing new.
    """
    size = settings.CXHUB_PUSH_BATCH_SIZE
    provider = incident.policy.get("provider") or settings.CXHUB_PUSH_PROVIDER
    batch, batches, pending = [], 0, []

    def cut():
        pending.append(
            Delivery(
                key=f"{key_prefix}:{batches}",
                incident=incident,
                purpose=purpose,
                provider=provider,
                title=incident.action.name,
                message=texts.get("default", ""),
                texts=texts,
                recipients=batch,
                size=len(batch),
                due_at=now,
                quiet_hours=quiet_hours,
            )
        )

    for device_id in device_ids:
        batch.append(device_id)
        if len(batch) == size:
            cut()
            batch, batches = [], batches + 1
            if len(pending) >= 100:
                deliveries_queue(pending, now=now)
                pending = []
    if batch:
        cut()
        batches += 1
    deliveries_queue(pending, now=now)
    return batches


def push_fan_out(incident, *, now) -> int:
    """Queue the outage push to the audience in batches; return the number of batches.

    The audience is streamed from the database in device id order, never loaded
    whole, one part per moment it may go: now, or a night's end in the customers'
    time zones (`push:<incident>:m<epoch>:<n>`, held; sent now, marked critical,
    when the action is critical). Resolving cancels what still waits.
    """
    audience = incident.policy.get("audience") or audience_of(incident.action)
    texts = push_texts(incident, "outage")
    batches = 0
    for part in audience_parts(
        audience,
        now=now,
        critical=bool(incident.policy.get("critical")),
        window=settings.CXHUB_QUIET_WINDOW,
    ):
        device_ids = (
            part.rows.order_by("id")
            .values_list("id", flat=True)
            .iterator(chunk_size=max(settings.CXHUB_PUSH_BATCH_SIZE, 2000))
        )
        batches += _queue_batches(
            incident,
            device_ids,
            purpose=Delivery.Purpose.PUSH,
            key_prefix=":".join(filter(None, ["push", str(incident.pk), part.key])),
            texts=texts,
            now=part.due_at,
            quiet_hours=part.quiet_hours,
        )
    return batches + fallback_fan_out(incident, texts=texts, now=now)


def _fallback_queue(
    incident, customer_ids, *, key_prefix, texts, due_at, now, quiet_hours=""
) -> int:
    """Cut customer ids into fallback deliveries of the action's channel; return how many."""
    size = settings.CXHUB_PUSH_BATCH_SIZE
    ids = list(customer_ids)
    deliveries = [
        Delivery(
            key=f"{key_prefix}:{n}",
            incident=incident,
            purpose=Delivery.Purpose.FALLBACK,
            provider=incident.policy["fallback"],
            title=incident.action.name,
            message=texts.get("default", ""),
            texts=texts,
            recipients=ids[start : start + size],
            size=len(ids[start : start + size]),
            due_at=due_at,
            quiet_hours=quiet_hours,
        )
        for n, start in enumerate(range(0, len(ids), size))
    ]
    deliveries_queue(deliveries, now=now)
    return len(deliveries)


def fallback_fan_out(incident, *, texts, now) -> int:
    """Queue the fallback to audience customers without an enabled device, by their nights."""
    channel = incident.policy.get("fallback")
    if not channel:
        return 0
    audience = incident.policy.get("audience") or audience_of(incident.action)
    batches = 0
    for part in parts_by_morning(
        fallback_customers(audience, channel),
        "time_zone",
        now=now,
        critical=bool(incident.policy.get("critical")),
        window=settings.CXHUB_QUIET_WINDOW,
    ):
        batches += _fallback_queue(
            incident,
            part.rows.order_by("id").values_list("id", flat=True),
            key_prefix=":".join(filter(None, ["fallback", str(incident.pk), "none", part.key])),
            texts=texts,
            due_at=part.due_at,
            now=now,
            quiet_hours=part.quiet_hours,
        )
    return batches


def _incident_locked(delivery: Delivery):
    """A push batch's incident, locked until the transaction ends (None if it is gone)."""
    return (
        Incident.objects.select_for_update()
        .select_related("action")
        .filter(pk=delivery.incident_id)
        .first()
    )


def fallback_if_failed(delivery: Delivery, *, now) -> int:
    """Queue the fallback for customers a finished push batch could not reach at all.

    Under the incident's lock, like the late all-clear: a resolved incident gets none.
    """
    if delivery.purpose != Delivery.Purpose.PUSH:
        return 0
    with transaction.atomic():
        incident = _incident_locked(delivery)
        if incident is None or incident.is_resolved or not incident.policy.get("fallback"):
            return 0
        return _fallback_queue(
            incident,
            customers_push_failed(delivery, incident.policy["fallback"]),
            key_prefix=f"fallback:{incident.pk}:after:{delivery.key}",
            texts=delivery.texts or {"default": delivery.message},
            due_at=now,
            now=now,
        )


def all_clear_fan_out(incident, *, now, key_prefix=None, device_ids=None) -> int:
    """Queue the all-clear for the devices the outage push reached (the ledger says which)."""
    if device_ids is None:
        device_ids = sent_device_ids(incident=incident).iterator(
            chunk_size=max(settings.CXHUB_PUSH_BATCH_SIZE, 2000)
        )
    return _queue_batches(
        incident,
        device_ids,
        purpose=Delivery.Purpose.ALL_CLEAR,
        key_prefix=key_prefix or f"all_clear:{incident.pk}",
        texts=push_texts(incident, "all_clear"),
        now=now,
    )


def push_wind_down(incident, *, now) -> tuple[int, int]:
    """On resolve: cancel push batches not yet sent, queue the all-clear for sent devices.

    A batch being sent right now gets its all-clear when its send finishes (see
    `all_clear_if_resolved`); the ledger's unique constraint keeps a device from
    getting two.
    """
    cancelled = pushes_cancel_queued(
        reason="The incident resolved before it was sent.",
        incident=incident,
        purpose__in=[Delivery.Purpose.PUSH, Delivery.Purpose.FALLBACK],
    )
    return cancelled, all_clear_fan_out(incident, now=now)


def all_clear_if_resolved(delivery: Delivery, *, now) -> None:
    """Queue the all-clear for what a push batch sent if its incident resolved meanwhile.

    Locking the incident orders this with a concurrent resolve: either the resolve's
    all-clear fan-out saw this batch's ledger rows, or this sees the resolve. The
    ledger's unique constraint keeps a device from getting the all-clear twice.
    """
    if delivery.purpose != Delivery.Purpose.PUSH:
        return
    with transaction.atomic():
        incident = _incident_locked(delivery)
        if incident is None or incident.status != Incident.Status.RESOLVED:
            return
        all_clear_fan_out(
            incident,
            now=now,
            key_prefix=f"all_clear:{incident.pk}:late:{delivery.key}:{delivery.attempts}",
            device_ids=sent_device_ids(delivery=delivery),
        )


def action_push_stopped(delivery: Delivery) -> str:
    """Return why the action of a push batch must not push now (its kill switch), or ''."""
    if (
        delivery.incident_id
        and Action.objects.filter(incidents__pk=delivery.incident_id, push_paused=True).exists()
    ):
        return "Stopped by the action's push kill switch."
    return ""


def action_pushes_cancel(action, *, reason: str) -> int:
    """Cancel every queued push and all-clear of one action (its kill switch)."""
    return pushes_cancel_queued(reason=reason, incident__action_id=action.pk)
