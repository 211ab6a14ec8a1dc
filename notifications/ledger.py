"""Customer pushes: send a claimed batch device by device, keep the ledger, apply the cap.

The ledger (`PushRecord`) has one row per incident, device and purpose: the
unique constraint lets only one batch own a device, so the rows a batch owns are
exactly what it may send, on a retry too. Kill switches stop batches here.
"""

from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications import signals, throttle
from notifications.errors import ClaimLost, DeliveryError, PushCancelled, Throttled
from notifications.messages import pick_text
from notifications.models import Customer, Delivery, Device, PushRecord, PushSwitch
from notifications.providers import PushMessage, get_push_provider

PUSH_PURPOSES = (Delivery.Purpose.PUSH, Delivery.Purpose.ALL_CLEAR)
# Everything that tells customers: what the kill switches and a resolve cancel.
CUSTOMER_PURPOSES = (*PUSH_PURPOSES, Delivery.Purpose.FALLBACK)


def pushes_stopped(delivery: Delivery | None = None) -> str:
    """Return why customer pushes must not go out now, or ''.

    The global switches are the engine's; a receiver of `push_blocked` adds its
    own (an action's kill switch) for the batch it is asked about.
    """
    if settings.CXHUB_PUSH_KILL_SWITCH:
        return "Stopped by the kill switch (CXHUB_PUSH_KILL_SWITCH)."
    if PushSwitch.objects.filter(paused=True).exists():
        return "Stopped by the global push kill switch."
    if delivery is not None:
        for _receiver, reason in signals.push_blocked.send(sender=Delivery, delivery=delivery):
            if reason:
                return reason
    return ""


def pushes_cancel_queued(*, reason: str, **lookups) -> int:
    """Cancel queued (pending) customer pushes and fallbacks matching `lookups` (all: none)."""
    queued = Delivery.objects.filter(purpose__in=CUSTOMER_PURPOSES, status=Delivery.Status.PENDING)
    queued = queued.filter(**lookups)
    # A batch waiting for a retry or its send-rate slot holds pending ledger rows: they
    # will not be sent now, and the ledger says why.
    PushRecord.objects.filter(delivery__in=queued, status=PushRecord.Status.PENDING).update(
        status=PushRecord.Status.FAILED, error=reason
    )
    return queued.update(status=Delivery.Status.CANCELLED, last_error=reason)


def push_switch_set(*, paused: bool, by: str) -> int:
    """Flip the global kill switch; pausing cancels queued pushes at once."""
    PushSwitch.objects.update_or_create(
        pk=1, defaults={"paused": paused, "changed_by": by, "changed_at": timezone.now()}
    )
    if not paused:
        return 0
    return pushes_cancel_queued(reason=f"Stopped by the global push kill switch ({by}).")


def text_of(delivery: Delivery, locale: str) -> str:
    """Return the batch's text for a locale: the closest of `texts`, else its message."""
    choices = dict(delivery.texts or {})
    default = choices.pop("default", delivery.message)
    return pick_text(choices, locale, default)


def _test_push_send(delivery: Delivery, provider) -> None:
    # A test push from the admin: chosen devices, no audience, cap or ledger.
    devices = Device.objects.filter(pk__in=delivery.recipients).select_related("customer")
    failures = provider.send(
        messages=[PushMessage(device=d, body=delivery.message) for d in devices],
        title=delivery.title,
        reference=delivery.key,
    )
    if failures:
        raise DeliveryError(next(iter(failures.values())).error, permanent=True)


def _ledger_rows_insert(delivery: Delivery, purpose: str, provider_name: str, *, now) -> None:
    devices = Device.objects.filter(pk__in=delivery.recipients, enabled=True)
    # A customer who opted out since the batch was queued (it waited for their
    # morning, say) is not told.
    opted_out = "opt_out_outage" if purpose == PushRecord.Purpose.OUTAGE else "opt_out_all_clear"
    devices = devices.exclude(**{f"customer__{opted_out}": True})
    if purpose == PushRecord.Purpose.ALL_CLEAR:
        # Only devices the outage push actually reached hear that it is over.
        devices = devices.filter(
            pk__in=PushRecord.objects.filter(
                incident_id=delivery.incident_id,
                purpose=PushRecord.Purpose.OUTAGE,
                status=PushRecord.Status.SENT,
            ).values("device_id")
        )
    PushRecord.objects.bulk_create(
        [
            PushRecord(
                incident_id=delivery.incident_id,
                delivery=delivery,
                customer=device.customer,
                customer_ref=device.customer.external_id,
                device=device,
                token_tail=device.token[-8:],
                platform=device.platform,
                locale=device.customer.locale,
                purpose=purpose,
                message=text_of(delivery, device.customer.locale),
                provider=provider_name,
                quiet_hours=delivery.quiet_hours,
                created_at=now,
            )
            for device in devices.select_related("customer")
        ],
        ignore_conflicts=True,
        batch_size=500,
    )


def push_batch_send(delivery: Delivery, *, still_claimed=lambda: True) -> None:
    """Send a claimed push batch device by device, recording each in the ledger.

    Ledger rows are inserted first (pending), then the cap marks the capped ones;
    `still_claimed()` is asked just before the provider is called.
    """
    reason = pushes_stopped(delivery)
    if reason:
        raise PushCancelled(reason, permanent=True)
    provider = get_push_provider(delivery.provider)
    if delivery.incident_id is None:
        _test_push_send(delivery, provider)
        return
    purpose = (
        PushRecord.Purpose.OUTAGE
        if delivery.purpose == Delivery.Purpose.PUSH
        else PushRecord.Purpose.ALL_CLEAR
    )
    now = timezone.now()
    _ledger_rows_insert(delivery, purpose, provider.name, now=now)
    mine = PushRecord.objects.filter(delivery=delivery, status=PushRecord.Status.PENDING)
    if purpose == PushRecord.Purpose.OUTAGE:
        frequency_cap_apply(delivery.incident_id, mine, now=now)
    records = list(mine.exclude(device=None).select_related("device__customer"))
    if not records:
        return
    rate_slot_take(delivery, provider.name, len(records))
    if not still_claimed():
        raise ClaimLost("claim lost")
    try:
        failures = provider.send(
            messages=[PushMessage(device=r.device, body=r.message) for r in records],
            title=delivery.title,
            reference=delivery.key,
        )
    except DeliveryError as exc:
        if exc.permanent:
            mine.update(status=PushRecord.Status.FAILED, error=exc.message)
        raise  # a transient error leaves the rows pending for the retry
    done = timezone.now()
    mine.exclude(device_id__in=list(failures)).update(status=PushRecord.Status.SENT, sent_at=done)
    retry = {d: f for d, f in failures.items() if f.transient and not f.unregistered}
    by_error = defaultdict(list)
    for device_id, failure in failures.items():
        if device_id not in retry:
            by_error[failure.error].append(device_id)
    for error, device_ids in by_error.items():
        mine.filter(device_id__in=device_ids).update(status=PushRecord.Status.FAILED, error=error)
    dead = {device_id: f.error for device_id, f in failures.items() if f.unregistered}
    devices_disable(dead, provider=provider.name, now=done)
    if retry:
        # Their rows stay pending: the batch's retry sends to them, and only to them.
        sample = next(iter(retry.values())).error
        raise DeliveryError(
            f"{len(retry)} of {len(records)} device(s) failed transiently (e.g. {sample}); "
            f"{len(records) - len(failures)} sent"
        )


def rate_slot_take(delivery: Delivery, provider_name: str, messages: int) -> None:
    """Send now, or raise Throttled with the later send-rate slot this batch now holds.

    A batch back at the slot it reserved sends without reserving again.
    """
    if delivery.rate_slot_at is not None:
        return
    slot = throttle.slot_reserve(provider_name, messages, now=timezone.now())
    if slot is not None:
        raise Throttled(
            f"Send rate of {provider_name} ({throttle.rate_limit_of(provider_name)}/min) "
            f"spent: {messages} message(s) wait for their slot at {slot:%H:%M:%S} UTC.",
            until=slot,
        )


def records_fail(delivery: Delivery, error: str) -> int:
    """Mark a failed batch's pending ledger rows failed."""
    return PushRecord.objects.filter(delivery=delivery, status=PushRecord.Status.PENDING).update(
        status=PushRecord.Status.FAILED, error=error
    )


def sent_device_ids(**lookups):
    """Device ids the ledger shows as sent an outage push (for the all-clear), in id order.

    Customers who have since opted out of all-clears are left out.
    """
    return (
        PushRecord.objects.filter(
            purpose=PushRecord.Purpose.OUTAGE,
            status=PushRecord.Status.SENT,
            device__isnull=False,
            **lookups,
        )
        .exclude(customer__opt_out_all_clear=True)
        .order_by("device_id")
        .values_list("device_id", flat=True)
    )


def frequency_cap_apply(incident_id, records, *, now) -> None:
    """Mark pending outage records of capped customers as skipped, claiming the rest.

    A customer may get an outage push when their last one is older than the window
    or came from this same incident (their other devices, a retry). The customers
    are locked in id order while claimed, so concurrent batches cannot both pass.
    """
    customer_ids = sorted(set(records.values_list("customer_id", flat=True)) - {None})
    if not customer_ids:
        return
    window_start = now - settings.CXHUB_PUSH_CAP_WINDOW
    with transaction.atomic():
        rows = list(
            Customer.objects.select_for_update()
            .filter(pk__in=customer_ids)
            .order_by("pk")
            .values_list("pk", "last_outage_push_at", "last_outage_incident_id")
        )
        fresh = {pk for pk, at, _ in rows if at is None or at < window_start}
        same = {pk for pk, _, last_incident in rows if last_incident == incident_id}
        capped = set(customer_ids) - fresh - same
        Customer.objects.filter(pk__in=fresh).update(
            last_outage_push_at=now, last_outage_incident_id=incident_id
        )
        if capped:
            records.filter(customer_id__in=capped).update(
                status=PushRecord.Status.CAPPED,
                error=f"The customer got an outage push less than "
                f"{settings.CXHUB_PUSH_CAP_WINDOW} ago.",
            )


def devices_disable(dead: dict, *, provider: str, now) -> int:
    """Disable devices whose token the provider reported dead ({device id: error})."""
    by_error = defaultdict(list)
    for device_id, error in dead.items():
        by_error[error].append(device_id)
    disabled = 0
    for error, device_ids in by_error.items():
        disabled += Device.objects.filter(pk__in=device_ids, enabled=True).update(
            enabled=False, disabled_at=now, disabled_reason=f"{provider}: {error}"[:200]
        )
    return disabled
