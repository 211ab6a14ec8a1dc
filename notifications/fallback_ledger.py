"""The SMS / e-mail fallback in the engine: who needs it after a push batch, send, ledger.

A fallback delivery's recipients are customer ids and its `provider` the channel
(sms or email); its texts are the outage push's, rendered per locale by whoever
queued it. The send writes one ledger row per customer (channel sms or email,
no device; unique per incident and customer, so once), applies the frequency
cap, checks the kill switches and sends through the channel's provider
(fallback.py). Which incidents fall back, and when, is the queuer's business.
"""

from django.db.models import Exists, OuterRef
from django.utils import timezone

from notifications.errors import ClaimLost, DeliveryError, PushCancelled
from notifications.fallback import FallbackMessage, get_fallback_provider, provider_key
from notifications.ledger import frequency_cap_apply, pushes_stopped, rate_slot_take, text_of
from notifications.models import Customer, Delivery, Device, PushRecord
from notifications.selectors import CONTACT, customers_consenting


def customers_push_failed(delivery: Delivery, channel: str):
    """Return the customers of a push batch whose every push of its incident failed for good.

    A customer still has a chance by push while one of their outage records is
    sent, pending or capped, or an enabled device of theirs has no record yet (it
    is in a later batch): those are left out.
    """
    outage = PushRecord.objects.filter(
        incident_id=delivery.incident_id, purpose=PushRecord.Purpose.OUTAGE
    )
    failed = outage.filter(delivery=delivery, status=PushRecord.Status.FAILED)
    return (
        customers_consenting(Customer.objects.filter(pk__in=failed.values("customer_id")), channel)
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
        .order_by("id")
        .values_list("id", flat=True)
    )


def fallback_batch_send(delivery: Delivery, *, still_claimed=lambda: True) -> None:
    """Send a claimed fallback batch, recording each customer in the ledger."""
    reason = pushes_stopped(delivery)
    if reason:
        raise PushCancelled(reason, permanent=True)
    channel = delivery.provider
    provider = get_fallback_provider(channel)
    contact = CONTACT[channel]
    now = timezone.now()
    customers = customers_consenting(Customer.objects.filter(pk__in=delivery.recipients), channel)
    PushRecord.objects.bulk_create(
        [
            PushRecord(
                incident_id=delivery.incident_id,
                delivery=delivery,
                customer=customer,
                customer_ref=customer.external_id,
                token_tail=getattr(customer, contact)[-4:],
                platform=channel,
                locale=customer.locale,
                purpose=PushRecord.Purpose.OUTAGE,
                channel=channel,
                message=text_of(delivery, customer.locale),
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
    frequency_cap_apply(delivery.incident_id, mine, now=now)
    records = list(mine.select_related("customer"))
    if not records:
        return
    rate_slot_take(delivery, provider_key(channel), len(records))  # the gateway's contract
    if not still_claimed():
        raise ClaimLost("claim lost")
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
    except DeliveryError as exc:
        if exc.permanent:
            mine.update(status=PushRecord.Status.FAILED, error=exc.message)
        raise  # a transient error leaves the rows pending for the retry
    done = timezone.now()
    mine.exclude(customer_id__in=list(failures)).update(status=PushRecord.Status.SENT, sent_at=done)
    for customer_id, failure in failures.items():
        if not failure.transient:
            mine.filter(customer_id=customer_id).update(
                status=PushRecord.Status.FAILED, error=failure.error
            )
    retry = [f for f in failures.values() if f.transient]
    if retry:
        raise DeliveryError(f"{len(retry)} of {len(records)} {channel} message(s) failed")
