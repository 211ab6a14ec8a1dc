"""The status page's senders, run by the delivery engine (registered in StatuspageConfig.ready()).

The engine claims the delivery, retries it and records its outcome; these write
the notices' ledger (one `NoticeRecord` per notice and subscriber: unique, so a
retry or a duplicate task sends nobody twice), reserve the provider's send rate
and send: e-mail through CXHUB_EMAIL_PROVIDER with the one-click unsubscribe
headers, webhooks as signed JSON through the outbound guard.
"""

from django.conf import settings
from django.utils import timezone

from notifications.errors import ClaimLost, DeliveryError
from notifications.fallback import FallbackMessage, get_fallback_provider, provider_key
from notifications.ledger import rate_slot_take
from notifications.models import Delivery
from notifications.providers.webhook import signed_post
from statuspage.models import Language, Notice, NoticeRecord, Subscriber
from statuspage.notice_texts import footer, notice_texts
from statuspage.notices import notice_of
from statuspage.subscribers import absolute, manage_url, unsubscribe_headers, unsubscribe_url

# The send-rate limit (CXHUB_PUSH_RATE_LIMITS) of subscriber webhooks.
WEBHOOK_PROVIDER = "webhook:status"


def _text(notice: Notice, language: str) -> dict:
    return notice.texts.get(language) or notice.texts.get(Language.PT_BR) or {}


def texts_in_zones(notice: Notice):
    """Return a function (language, zone) -> {subject, body}, rendering each pair once.

    The stored texts are in the bank's zone; a subscriber who chose another zone
    gets them written again from the notice's context (one render per pair and batch).
    """
    rendered = {}

    def text(language: str, zone: str) -> dict:
        if not zone or zone == settings.TIME_ZONE or not notice.context:
            return _text(notice, language)
        if (language, zone) not in rendered:
            rendered[(language, zone)] = notice_texts(
                notice.kind,
                service_ids=notice.service_ids,
                zone=zone,
                languages=[language],
                **notice.context,
            )[language]
        return rendered[(language, zone)]

    return text


def _records_insert(delivery: Delivery, notice: Notice, provider: str, *, now) -> None:
    # Subscribers who left since the batch was queued are not told.
    subscribers = Subscriber.objects.filter(
        pk__in=delivery.recipients, confirmed_at__isnull=False, unsubscribed_at__isnull=True
    ).only("pk", "language")
    NoticeRecord.objects.bulk_create(
        [
            NoticeRecord(
                notice=notice,
                delivery=delivery,
                subscriber=subscriber,
                channel=delivery.provider,
                language=subscriber.language,
                provider=provider,
                created_at=now,
            )
            for subscriber in subscribers
        ],
        ignore_conflicts=True,
        batch_size=500,
    )


def webhook_body(notice: Notice, subscriber: Subscriber) -> dict:
    """Return the JSON a webhook subscriber receives for a notice."""
    text = _text(notice, subscriber.language)
    return {
        "id": str(notice.pk),
        "kind": notice.kind,
        "created_at": notice.created_at.isoformat(),
        "incident": str(notice.incident_id) if notice.incident_id else None,
        "language": subscriber.language,
        "subject": text.get("subject", ""),
        "body": text.get("body", ""),
        "page": absolute("/status/"),
    }


def notice_batch_send(delivery: Delivery, *, still_claimed=lambda: True) -> str:
    """Send a claimed notice batch, recording each subscriber in the notices' ledger."""
    notice = notice_of(delivery)
    channel = delivery.provider
    provider = provider_key("email") if channel == "email" else WEBHOOK_PROVIDER
    now = timezone.now()
    _records_insert(delivery, notice, provider, now=now)
    mine = NoticeRecord.objects.filter(delivery=delivery, status=NoticeRecord.Status.PENDING)
    records = list(mine.select_related("subscriber"))
    if not records:
        return ": nothing left to send"
    rate_slot_take(delivery, provider, len(records))
    if not still_claimed():
        raise ClaimLost("claim lost")
    try:
        if channel == "email":
            failures = _email_send(delivery, notice, records)
        else:
            failures = _webhook_send(delivery, notice, records)
    except DeliveryError as exc:
        if exc.permanent:
            mine.update(status=NoticeRecord.Status.FAILED, error=exc.message)
        raise  # a transient error leaves the rows pending for the retry
    done = timezone.now()
    mine.exclude(subscriber_id__in=list(failures)).update(
        status=NoticeRecord.Status.SENT, sent_at=done
    )
    for subscriber_id, failure in failures.items():
        if not failure.transient:
            mine.filter(subscriber_id=subscriber_id).update(
                status=NoticeRecord.Status.FAILED, error=failure.error
            )
    retry = [f for f in failures.values() if f.transient]
    if retry:
        raise DeliveryError(f"{len(retry)} of {len(records)} notice(s) failed")
    return f": {len(records) - len(failures)} sent, {len(failures)} failed"


def _email_send(delivery: Delivery, notice: Notice, records) -> dict:
    messages = []
    text_of = texts_in_zones(notice)
    for record in records:
        subscriber = record.subscriber
        text = text_of(record.language, subscriber.time_zone)
        messages.append(
            FallbackMessage(
                customer_id=subscriber.pk,
                channel="email",
                address=subscriber.email,
                locale=record.language,
                subject=text.get("subject", delivery.title),
                body=text.get("body", "")
                + footer(
                    record.language,
                    manage_url=manage_url(subscriber),
                    unsubscribe_url=unsubscribe_url(subscriber),
                ),
                headers=unsubscribe_headers(subscriber),
            )
        )
    return get_fallback_provider("email").send(
        messages=messages, title=delivery.title, reference=delivery.key
    )


def _webhook_send(delivery: Delivery, notice: Notice, records) -> dict:
    # One webhook per delivery: its errors are the delivery's (retried with backoff).
    for record in records:
        subscriber = record.subscriber
        signed_post(
            subscriber.url,
            webhook_body(notice, subscriber),
            secret=subscriber.secret,
            reference=delivery.key,
            gateway="Subscriber webhook",
        )
    return {}


def confirmation_send(delivery: Delivery, *, still_claimed=lambda: True) -> str:
    """Send a subscription's confirmation e-mail (one address, no ledger: nobody subscribed)."""
    rate_slot_take(delivery, provider_key("email"), 1)
    if not still_claimed():
        raise ClaimLost("claim lost")
    address = delivery.recipients[0]
    failures = get_fallback_provider("email").send(
        messages=[
            FallbackMessage(
                customer_id=0,
                channel="email",
                address=address,
                locale=(delivery.texts or {}).get("language", Language.PT_BR),
                subject=delivery.title,
                body=delivery.message,
            )
        ],
        title=delivery.title,
        reference=delivery.key,
    )
    if failures:
        failure = failures[0]
        raise DeliveryError(failure.error, permanent=not failure.transient)
    return ""


def records_fail(delivery: Delivery, error: str) -> int:
    """Mark a failed notice batch's pending ledger rows failed (the engine gave up on it)."""
    return NoticeRecord.objects.filter(
        delivery=delivery, status=NoticeRecord.Status.PENDING
    ).update(status=NoticeRecord.Status.FAILED, error=error)
