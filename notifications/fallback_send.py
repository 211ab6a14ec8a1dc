"""The fallback to SMS or e-mail: for customers no outage push can reach, once, within the cap.

Two moments queue it, when the action's policy names a channel (`fallback`):
the fan-out, for audience customers with no enabled device (split by their
quiet hours like the push), and the end of a push batch, for customers whose
every device's push failed for good. Each is a `Delivery` of purpose fallback
whose recipients are customer ids; its send writes one ledger row per customer
(channel sms or email, no device; unique per incident and customer), applies
the frequency cap, and sends through the channel's provider (fallback.py).
"""

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from notifications.audiences import audience_of, text_for
from notifications.fallback import FallbackMessage, get_fallback_provider, provider_key
from notifications.models import Customer, Delivery, Device, PushRecord
from notifications.selectors import fallback_customers, parts_by_morning

CONTACT = {"sms": "phone", "email": "email"}


def _queue(incident, customer_ids, *, channel, key_prefix, due_at, quiet_hours="") -> int:
    """Cut customer ids into fallback deliveries and queue them; return how many."""
    from notifications.services import deliveries_queue

    size = settings.CXHUB_PUSH_BATCH_SIZE
    ids = list(customer_ids)
    batches = [
        Delivery(
            key=f"{key_prefix}:{n}",
            incident=incident,
            purpose=Delivery.Purpose.FALLBACK,
            provider=channel,
            title=incident.action.name,
            message="",
            recipients=ids[start : start + size],
            size=len(ids[start : start + size]),
            due_at=due_at,
            quiet_hours=quiet_hours,
        )
        for n, start in enumerate(range(0, len(ids), size))
    ]
    deliveries_queue(batches)
    return len(batches)


def fallback_fan_out(incident, *, now) -> int:
    """Queue the fallback for the audience's customers without an enabled device."""
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
        batches += _queue(
            incident,
            part.rows.order_by("id").values_list("id", flat=True),
            channel=channel,
            key_prefix=":".join(filter(None, ["fallback", str(incident.pk), "none", part.key])),
            due_at=part.due_at,
            quiet_hours=part.quiet_hours,
        )
    return batches


def fallback_after_batch(delivery, *, now) -> int:
    """Queue the fallback for the customers of a push batch whose every push failed for good.

    A customer still has a chance by push while one of their records of this
    incident is sent, pending or capped, or an enabled device of theirs has no
    record yet (it is in a later batch): those are left alone.
    """
    from incidents.models import Incident

    incident = delivery.incident
    channel = incident.policy.get("fallback") if incident else ""
    if not channel or delivery.purpose != Delivery.Purpose.PUSH:
        return 0
    if Incident.objects.filter(pk=incident.pk, status=Incident.Status.RESOLVED).exists():
        return 0
    outage = PushRecord.objects.filter(incident=incident, purpose=PushRecord.Purpose.OUTAGE)
    failed = outage.filter(delivery=delivery, status=PushRecord.Status.FAILED).values("customer_id")
    contact = CONTACT[channel]
    customers = (
        Customer.objects.filter(pk__in=failed, opt_out_outage=False, **{f"{contact}_consent": True})
        .exclude(**{contact: ""})
        .exclude(
            Exists(
                outage.filter(customer_id=OuterRef("pk")).exclude(status=PushRecord.Status.FAILED)
            )
        )
        .exclude(
            Exists(
                # device_id IS NOT NULL: a NULL in a NOT IN list would match nothing.
                Device.objects.filter(customer_id=OuterRef("pk"), enabled=True).exclude(
                    pk__in=outage.filter(device__isnull=False).values("device_id")
                )
            )
        )
    )
    return _queue(
        incident,
        customers.order_by("id").values_list("id", flat=True),
        channel=channel,
        key_prefix=f"fallback:{incident.pk}:after:{delivery.key}",
        due_at=now,
    )


def fallback_batch_send(delivery) -> str:
    """Send a claimed fallback batch, recording each customer in the ledger."""
    from notifications.services import (
        PushCancelled,
        _apply_frequency_cap,
        _texts,
        push_variables,
        pushes_stopped,
    )

    incident, channel = delivery.incident, delivery.provider
    reason = pushes_stopped(incident.action_id)
    if reason:
        raise PushCancelled(reason, permanent=True)
    provider = get_fallback_provider(channel)
    contact = CONTACT[channel]
    texts, variables, now = _texts(incident), push_variables(incident), timezone.now()
    customers = Customer.objects.filter(
        pk__in=delivery.recipients, opt_out_outage=False, **{f"{contact}_consent": True}
    ).exclude(**{contact: ""})
    PushRecord.objects.bulk_create(
        [
            PushRecord(
                incident=incident,
                delivery=delivery,
                customer=customer,
                customer_ref=customer.external_id,
                token_tail=getattr(customer, contact)[-4:],
                platform=channel,
                locale=customer.locale,
                purpose=PushRecord.Purpose.OUTAGE,
                channel=channel,
                message=text_for(texts, "outage", customer.locale, variables),
                provider=provider_key(channel),
                quiet_hours=delivery.quiet_hours,
                created_at=now,
            )
            for customer in customers
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    mine = PushRecord.objects.filter(delivery=delivery, status=PushRecord.Status.PENDING)
    _apply_frequency_cap(incident, mine, now=now)
    records = list(mine.select_related("customer"))
    if not records:
        return ": nothing left to send"
    messages = [
        FallbackMessage(
            customer_id=r.customer_id,
            channel=channel,
            address=getattr(r.customer, contact),
            locale=r.locale,
            body=r.message,
        )
        for r in records
    ]
    try:
        failures = provider.send(messages=messages, title=delivery.title, reference=delivery.key)
    except Exception as exc:
        if getattr(exc, "permanent", False):
            mine.update(status=PushRecord.Status.FAILED, error=str(exc)[:500])
        raise
    done = timezone.now()
    mine.exclude(customer_id__in=list(failures)).update(status=PushRecord.Status.SENT, sent_at=done)
    for customer_id, failure in failures.items():
        if not failure.transient:
            mine.filter(customer_id=customer_id).update(
                status=PushRecord.Status.FAILED, error=failure.error
            )
    retry = [f for f in failures.values() if f.transient]
    if retry:
        from notifications.channels.base import DeliveryError

        raise DeliveryError(f"{len(retry)} of {len(records)} {channel} message(s) failed")
    return f": {len(records) - len(failures)} {channel} sent, {len(failures)} failed"
