"""Subscribing to the status page: double opt-in by signed link, one-click unsubscribe.

The subscribe form writes nothing: it signs the request (address, language,
services, time) into a confirmation link and e-mails it, whatever the address's
state, so neither the answer nor its side effects tell whether an address is
subscribed. The link, within CXHUB_STATUS_CONFIRM_HOURS, writes the subscription.
Every notice carries a signed unsubscribe link (RFC 8058 one-click).
"""

import hashlib
import uuid

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from actions.models import Service
from cxhub.ratelimit import over_limit
from notifications.deliveries import deliveries_queue
from notifications.models import Delivery
from statuspage.models import Language, Subscriber
from statuspage.notice_texts import zone_valid

CONFIRM_SALT = "statuspage.subscribe.confirm"
UNSUBSCRIBE_SALT = "statuspage.unsubscribe"
MANAGE_SALT = "statuspage.manage"


def absolute(path: str) -> str:
    return f"{settings.CXHUB_BASE_URL}{path}"


def confirm_token(
    *, email: str, language: str, service_ids: list[int] | None, now, zone: str = ""
) -> str:
    """Sign a subscribe request; None as services means the whole page."""
    return signing.dumps(
        {"e": email, "l": language, "s": service_ids, "z": zone, "t": int(now.timestamp())},
        salt=CONFIRM_SALT,
        compress=True,
    )


def unsubscribe_token(subscriber: Subscriber) -> str:
    """Sign a subscriber's id for its unsubscribe link; it does not expire (old mails work)."""
    return signing.dumps(str(subscriber.pk), salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(subscriber: Subscriber) -> str:
    return absolute(reverse("statuspage:unsubscribe", args=[unsubscribe_token(subscriber)]))


def manage_token(subscriber: Subscriber) -> str:
    """Sign a subscriber's id for the page that shows and changes the subscription.

    Its own salt: an unsubscribe link cannot open it, nor it unsubscribe by POST.
    It does not expire, like the unsubscribe link in the same mail.
    """
    return signing.dumps(str(subscriber.pk), salt=MANAGE_SALT)


def manage_url(subscriber: Subscriber) -> str:
    return absolute(reverse("statuspage:manage", args=[manage_token(subscriber)]))


def subscriber_of_manage_token(token: str) -> Subscriber | None:
    try:
        pk = signing.loads(token, salt=MANAGE_SALT)
    except signing.BadSignature:
        return None
    return Subscriber.objects.filter(pk=pk, kind=Subscriber.Kind.EMAIL).first()


def subscription_change(
    subscriber: Subscriber, *, language: str, zone: str, service_ids: list[int] | None
) -> Subscriber:
    """Change what an e-mail subscriber hears: language, time zone, whole page or services.

    An unsubscribed address is not subscribed again here: that takes the
    double opt-in of the subscribe form.
    """
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        subscriber.language = language if language in Language.values else Language.PT_BR
        subscriber.time_zone = zone if zone_valid(zone) else ""
        subscriber.whole_page = service_ids is None
        subscriber.save(update_fields=["language", "time_zone", "whole_page"])
        subscriber.services.set(
            Service.objects.filter(pk__in=service_ids or [], status_visible=True)
        )
    return subscriber


def unsubscribe_headers(subscriber: Subscriber) -> dict:
    """Return the RFC 2369 / RFC 8058 headers: a mail client's one-click unsubscribe."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(subscriber)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def address_digest(email: str) -> str:
    """Return a digest of an address: what throttle keys carry instead of the address."""
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def subscribe_request(
    *,
    email: str,
    language: str,
    service_ids: list[int] | None,
    client: str,
    zone: str = "",
    now=None,
) -> bool:
    """Queue the confirmation e-mail for a subscribe request; return False when throttled.

    Throttled per address and per client address, each per hour. The e-mail goes
    through the delivery engine like every e-mail cxhub sends.
    """
    now = now or timezone.now()
    email = email.strip().lower()
    if over_limit(
        "status-subscribe-client", client, limit=settings.CXHUB_STATUS_SUBSCRIBE_PER_CLIENT
    ) or over_limit(
        "status-subscribe-address",
        address_digest(email),
        limit=settings.CXHUB_STATUS_SUBSCRIBE_PER_ADDRESS,
    ):
        return False
    token = confirm_token(
        email=email, language=language, service_ids=service_ids, zone=zone, now=now
    )
    with translation.override(language):
        names = [
            s.name for s in Service.objects.filter(pk__in=service_ids or [], status_visible=True)
        ]
        subject = gettext("Confirm your subscription to the service status")
        body = render_to_string(
            "statuspage/email/confirm.txt",
            {
                "link": absolute(reverse("statuspage:confirm", args=[token])),
                "services": names,
                "hours": int(settings.CXHUB_STATUS_CONFIRM_HOURS),
                "page": absolute(reverse("statuspage:status")),
            },
        )
    with transaction.atomic():
        deliveries_queue(
            [
                Delivery(
                    key=f"status-confirm:{uuid.uuid4().hex}",
                    purpose=Delivery.Purpose.STATUS_CONFIRM,
                    provider="email",
                    title=subject,
                    message=body,
                    recipients=[email],
                    size=1,
                    texts={"language": language},
                    due_at=now,
                )
            ],
            now=now,
        )
    return True


def confirm_request(token: str) -> dict | None:
    """Return the signed request of a confirmation link, or None if forged or expired."""
    try:
        return signing.loads(
            token, salt=CONFIRM_SALT, max_age=settings.CXHUB_STATUS_CONFIRM_HOURS * 3600
        )
    except signing.BadSignature:  # SignatureExpired is one
        return None


def subscription_confirm(token: str, *, now=None) -> Subscriber | None:
    """Write the subscription a confirmation link signed; None if the link is not valid.

    A link older than the subscriber's last unsubscribe is refused, so an old
    confirmation mail cannot undo an unsubscribe.
    """
    now = now or timezone.now()
    request = confirm_request(token)
    if request is None:
        return None
    with transaction.atomic():
        subscriber, _ = Subscriber.objects.select_for_update().get_or_create(
            kind=Subscriber.Kind.EMAIL, email=request["e"]
        )
        unsubscribed = subscriber.unsubscribed_at
        if unsubscribed and unsubscribed.timestamp() > request["t"]:
            return None
        subscriber.language = request["l"] if request["l"] in Language.values else Language.PT_BR
        subscriber.whole_page = request["s"] is None
        zone = request.get("z") or ""
        subscriber.time_zone = zone if zone_valid(zone) else ""
        subscriber.confirmed_at = subscriber.confirmed_at or now
        subscriber.unsubscribed_at = None
        subscriber.save()
        subscriber.services.set(
            Service.objects.filter(pk__in=request["s"] or [], status_visible=True)
        )
    return subscriber


def subscriber_of_token(token: str) -> Subscriber | None:
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Subscriber.objects.filter(pk=pk).first()


def subscriber_unsubscribe(token: str, *, now=None) -> bool:
    """Unsubscribe the subscriber an unsubscribe link names; False if the link is not valid."""
    subscriber = subscriber_of_token(token)
    if subscriber is None:
        return False
    Subscriber.objects.filter(pk=subscriber.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=now or timezone.now()
    )
    return True


def audience(service_ids, kind: str = Subscriber.Kind.EMAIL):
    """Return the active subscribers of `kind` told of a change to these services.

    Whole-page subscribers and those who chose one of the services. Callers pass
    customer-facing services only, so nothing hidden reaches a subscriber.
    """
    chose = Subscriber.services.through.objects.filter(
        subscriber_id=OuterRef("pk"), service_id__in=list(service_ids)
    )
    return Subscriber.objects.filter(
        kind=kind, confirmed_at__isnull=False, unsubscribed_at__isnull=True
    ).filter(Q(whole_page=True) | Exists(chose))
