"""The delivery engine: queue deliveries, claim and send them, record the outcome, retry.

A delivery is a row with a unique key; the broker only rings the doorbell. A send
claims its row with a conditional UPDATE that stamps a claim token, re-checks the
claim just before the network call and records the outcome only while it still
holds that claim (a fencing token), so a worker paused past its lease neither
repeats a send the sweep handed to another worker nor overwrites its outcome.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cxhub.enqueue import enqueue_on_commit
from notifications import fallback_ledger, ledger, signals
from notifications.channels import get_channel
from notifications.errors import ClaimLost, DeliveryError, PushCancelled, Throttled
from notifications.models import Delivery, Device, Team

logger = logging.getLogger("cxhub.deliveries")

SEND_TASK = "notifications.tasks.send_delivery"
# Real pages and notices never wait behind bulk work (push batches, triage pages).
PAGES_QUEUE, BULK_QUEUE = "pages", "bulk"
_URGENT = {Delivery.Purpose.PAGE, Delivery.Purpose.NOTICE}


# Senders of the purposes another app owns (the status page's notices), registered in
# its AppConfig.ready(): the engine claims, throttles, retries and records those
# deliveries like its own without importing that app. A sender takes the claimed
# delivery and `still_claimed`, returns a summary, raises DeliveryError.
batch_senders: dict[str, Callable[..., str]] = {}


def batch_sender_register(purpose: str, send: Callable[..., str]) -> None:
    """Let `send` send the deliveries of `purpose` (a Delivery.Purpose another app owns)."""
    batch_senders[purpose] = send


def queue_of(purpose: str) -> str:
    return PAGES_QUEUE if purpose in _URGENT else BULK_QUEUE


def _publish_on_commit(delivery_id, queue: str, **options) -> None:
    def not_queued():
        Delivery.objects.filter(pk=delivery_id).update(queued_at=None)

    enqueue_on_commit(SEND_TASK, str(delivery_id), queue=queue, on_failure=not_queued, **options)


def deliveries_queue(deliveries: list[Delivery], *, now=None) -> None:
    """Insert deliveries whose key is new and enqueue their sends on commit.

    A key that exists already (a retry, a race) is skipped by the unique
    constraint, and a send task for it finds nothing pending to claim.
    """
    now = now or timezone.now()
    for delivery in deliveries:
        delivery.queued_at = now
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True, batch_size=500)
    for delivery in deliveries:
        _publish_on_commit(delivery.id, queue_of(delivery.purpose))


def channel_deliveries(channels, *, key: str, now, suffix: str = "", **fields) -> list[Delivery]:
    """Return one delivery per channel, keyed `<key>:<channel id><suffix>`, of one message."""
    return [
        Delivery(key=f"{key}:{channel.pk}{suffix}", channel=channel, due_at=now, **fields)
        for channel in channels
    ]


def backoff(attempts: int) -> timedelta:
    """Return the wait before retry number `attempts`: 2, 4, 8 ... seconds, at most 5 min."""
    return timedelta(seconds=min(2**attempts, 300))


def still_claimed(delivery: Delivery) -> bool:
    """Return whether this attempt still holds its claim (the lease did not run out)."""
    return Delivery.objects.filter(
        pk=delivery.pk, status=Delivery.Status.SENDING, claim=delivery.claim
    ).exists()


def delivery_send(delivery_id) -> Delivery | None:
    """Claim a due pending delivery, send it, and record the outcome.

    Returns the delivery, or None when another worker got there first, it is not
    due, or this attempt lost its claim. The network call happens outside any
    transaction.
    """
    now = timezone.now()
    claim = uuid.uuid4()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.PENDING, due_at__lte=now
    ).update(
        status=Delivery.Status.SENDING, claimed_at=now, claim=claim, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("channel", "team").get(pk=delivery_id)
    try:
        _send(delivery)
    except ClaimLost:
        logger.warning("Delivery %s: claim lost before sending; the new holder sends", delivery_id)
        return None
    except DeliveryError as exc:
        error = exc
    except Exception as exc:  # a bug or an unexpected library error: keep the row honest
        logger.exception("Unexpected error sending delivery %s", delivery_id)
        error = DeliveryError(f"{exc.__class__.__name__}: {exc}")
    else:
        error = None
    return _record(delivery, error)


def _pending_again(mine, delivery: Delivery, *, at, now, **fields) -> int:
    """Put a claimed delivery back to pending until `at` and publish its send for then.

    `mine` is the row while this attempt still holds its claim; returns whether it did.
    """
    changed = mine.update(
        status=Delivery.Status.PENDING, due_at=at, queued_at=at, claim=None, **fields
    )
    delivery.status = Delivery.Status.PENDING
    if changed:
        wait = max((at - now).total_seconds(), 0.0)
        _publish_on_commit(delivery.pk, queue_of(delivery.purpose), countdown=wait)
    return changed


def _record(delivery: Delivery, error: DeliveryError | None) -> Delivery | None:
    done = timezone.now()
    mine = Delivery.objects.filter(
        pk=delivery.pk, status=Delivery.Status.SENDING, claim=delivery.claim
    )
    with transaction.atomic():
        if isinstance(error, Throttled):
            # Not an attempt: the batch keeps its ledger rows and its reserved slot.
            changed = _pending_again(
                mine,
                delivery,
                at=error.until,
                now=done,
                last_error=error.message,
                rate_slot_at=error.until,
                attempts=F("attempts") - 1,
            )
            outcome = None
        elif isinstance(error, PushCancelled):
            changed = mine.update(status=Delivery.Status.CANCELLED, last_error=error.message)
            outcome = None
            delivery.status = Delivery.Status.CANCELLED
        elif error is None:
            changed = mine.update(status=Delivery.Status.SENT, sent_at=done, last_error="")
            outcome = "sent"
            delivery.status = Delivery.Status.SENT
        elif error.permanent or delivery.attempts >= settings.CXHUB_DELIVERY_MAX_ATTEMPTS:
            changed = mine.update(status=Delivery.Status.FAILED, last_error=error.message)
            outcome = "failed"
            delivery.status = Delivery.Status.FAILED
            if changed:
                ledger.records_fail(delivery, error.message)
        else:
            changed = _pending_again(
                mine,
                delivery,
                at=done + backoff(delivery.attempts),
                now=done,
                last_error=error.message,
                rate_slot_at=None,  # the retry reserves send rate again
            )
            outcome = "retry"
        if not changed:
            # The lease ran out mid-send and another attempt owns the row now: its
            # outcome is the one recorded (the receiver can drop a copy by its key).
            logger.warning(
                "Delivery %s: claim lost while sending; outcome not recorded", delivery.pk
            )
            return None
        if delivery.purpose in ledger.PUSH_PURPOSES and delivery.incident_id:
            if not isinstance(error, PushCancelled | Throttled):
                signals.push_batch_finished.send(sender=Delivery, delivery=delivery, at=done)
        if outcome:
            signals.delivery_recorded.send(
                sender=Delivery,
                delivery=delivery,
                outcome=outcome,
                error="" if error is None else error.message,
                at=done,
            )
    delivery.last_error = "" if error is None else error.message
    return delivery


def _send(delivery: Delivery) -> None:
    if delivery.purpose in ledger.PUSH_PURPOSES:
        ledger.push_batch_send(delivery, still_claimed=lambda: still_claimed(delivery))
        return
    if delivery.purpose == Delivery.Purpose.FALLBACK:
        fallback_ledger.fallback_batch_send(delivery, still_claimed=lambda: still_claimed(delivery))
        return
    if delivery.purpose in batch_senders:
        batch_senders[delivery.purpose](delivery, still_claimed=lambda: still_claimed(delivery))
        return
    if delivery.channel is None:
        raise DeliveryError("The channel was deleted", permanent=True)
    if not still_claimed(delivery):
        raise ClaimLost("claim lost")
    get_channel(delivery.channel.kind).send(
        target=delivery.channel.target,
        title=delivery.title,
        body=delivery.message,
        key=delivery.key,
    )


def deliveries_requeue(*, now) -> int:
    """Publish pending deliveries whose last publish is older than a lease; free dead claims.

    One broker message per pending delivery and lease at most, however long the
    queue is: a delivery waiting behind others is not published again and again.
    """
    lease = settings.CXHUB_DELIVERY_LEASE
    Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lte=now - lease).update(
        status=Delivery.Status.PENDING, due_at=now, claim=None, queued_at=None
    )
    due = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, due_at__lte=now)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lte=now - lease))
        .order_by("due_at")
        .values_list("id", "purpose")[:1000]
    )
    if not due:
        return 0
    with transaction.atomic():
        Delivery.objects.filter(id__in=[pk for pk, _ in due]).update(queued_at=now)
        for pk, purpose in due:
            _publish_on_commit(pk, queue_of(purpose))
    return len(due)


def team_send_test_page(team: Team, *, by: str, now=None) -> int:
    """Queue a test page to every enabled channel of a team; return how many.

    Each request gets its own keys, so asking again sends again; the pages go
    through the same send task, channels and retries as real ones.
    """
    now = now or timezone.now()
    request_id = uuid.uuid4().hex
    channels = list(team.channels.filter(enabled=True))
    deliveries_queue(
        channel_deliveries(
            channels,
            key=f"test-page:{team.pk}:{request_id}",
            now=now,
            purpose=Delivery.Purpose.PAGE,
            team=team,
            title=f"[cxhub] Test page for {team.name}",
            message=f"This is a test page sent by {by} from the cxhub admin. "
            "If you read it, this channel works.",
        ),
        now=now,
    )
    return len(channels)


def device_send_test_push(device: Device, *, by: str, now=None) -> Delivery:
    """Queue a test push to one device through the configured push provider."""
    now = now or timezone.now()
    delivery = Delivery(
        key=f"test-push:{device.pk}:{uuid.uuid4().hex}",
        purpose=Delivery.Purpose.PUSH,
        provider=settings.CXHUB_PUSH_PROVIDER,
        title="cxhub",
        message=f"Test push from cxhub (sent by {by}).",
        recipients=[device.pk],
        due_at=now,
    )
    deliveries_queue([delivery], now=now)
    return delivery
