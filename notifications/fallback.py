"""Fallback providers: the SMS or e-mail that reaches a customer no push could.

The same shape as the push providers: `send(messages=[FallbackMessage], title,
reference)` returns the failures by customer id (a customer absent from it was
sent), or raises DeliveryError when the whole batch failed (retried unless
permanent). One provider per channel, chosen by CXHUB_SMS_PROVIDER and
CXHUB_EMAIL_PROVIDER: console (log), locmem (tests), apprise (a URL template
whose `{to}` the number or address fills: an SMS gateway such as Twilio or
Vonage, or mailtos://), webhook (the bank's gateway, one signed JSON POST per
batch, like the push gateway's), and for e-mail smtp (Django's SMTP backend,
configured by EMAIL_URL). Every e-mail cxhub sends goes through here: the
customer fallback and the status page's notices and confirmations.
"""

import logging
import smtplib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from notifications.errors import DeliveryError, outbound_check, outbound_guarded
from notifications.providers import PushFailure
from notifications.providers.webhook import signed_post

logger = logging.getLogger("cxhub.fallback")

CHANNELS = ("sms", "email")
# What the locmem provider "sent", for tests.
outbox: list[dict] = []


@dataclass(frozen=True)
class FallbackMessage:
    # The recipient's id, the key of the failures returned: a customer, or a
    # status page subscriber for its notices.
    customer_id: object
    channel: str  # sms or email
    address: str  # E.164 number or e-mail address
    locale: str
    body: str
    # E-mail only: the subject (else the batch's title) and extra headers
    # (List-Unsubscribe ...). Providers that cannot carry them ignore them.
    subject: str = ""
    headers: dict = field(default_factory=dict)


def _setting(channel: str, name: str) -> str:
    return getattr(settings, f"CXHUB_{channel.upper()}_{name}")


class ConsoleFallbackProvider:
    name = "console"

    def send(self, *, messages, title, reference):
        # A count only: numbers and addresses stay out of logs.
        for channel in sorted({m.channel for m in messages}):
            group = [m for m in messages if m.channel == channel]
            logger.warning(
                "%s %s to %d customer(s) | %s",
                channel.upper(),
                reference,
                len(group),
                " | ".join(sorted({m.body for m in group})),
            )
        return {}


class LocmemFallbackProvider:
    name = "locmem"

    def send(self, *, messages, title, reference):
        outbox.append(
            {
                "reference": reference,
                "title": title,
                "to": [m.address for m in messages],
                "channel": messages[0].channel if messages else "",
                "bodies": {m.address: m.body for m in messages},
                "subjects": {m.address: m.subject or title for m in messages},
                "headers": {m.address: dict(m.headers) for m in messages},
            }
        )
        return {}


class WebhookFallbackProvider:
    """POST the batch to the bank's SMS / e-mail gateway, signed like the push gateway.

    Body `{"reference", "channel", "title", "recipients": [{"to", "locale",
    "message"}]}`, headers `X-Cxhub-Signature: sha256=<HMAC>` and
    `Idempotency-Key: <reference>`; the gateway may answer `{"failed": {to: error}}`.
    """

    name = "webhook"

    def send(self, *, messages, title, reference):
        channel = messages[0].channel
        url = _setting(channel, "WEBHOOK_URL")
        if not url:
            raise DeliveryError(f"CXHUB_{channel.upper()}_WEBHOOK_URL is not set", permanent=True)
        answer = signed_post(
            url,
            {
                "reference": reference,
                "channel": channel,
                "title": title,
                "recipients": [
                    {"to": m.address, "locale": m.locale, "message": m.body} for m in messages
                ],
            },
            secret=_setting(channel, "WEBHOOK_SECRET"),
            reference=reference,
            gateway=f"{channel} gateway",
        )
        failed = answer.get("failed") or {}
        by_address = {m.address: m.customer_id for m in messages}
        return {
            by_address[to]: PushFailure(str(error)[:500])
            for to, error in failed.items()
            if to in by_address
        }


class AppriseFallbackProvider:
    """Send each customer a message through an Apprise URL whose `{to}` is their address."""

    name = "apprise"

    def send(self, *, messages, title, reference):
        import apprise

        channel = messages[0].channel
        template = _setting(channel, "APPRISE_URL")
        if "{to}" not in template:
            raise DeliveryError(
                f"CXHUB_{channel.upper()}_APPRISE_URL must contain {{to}}", permanent=True
            )
        # The gateway's host is the template's (the address only fills {to}).
        outbound_check(template.replace("{to}", "to"), apprise=True)

        def one(message):
            notifier = apprise.Apprise()
            if not notifier.add(template.replace("{to}", quote(message.address, safe="@+"))):
                return PushFailure("Not a valid Apprise URL for this address")
            try:
                with outbound_guarded():
                    delivered = notifier.notify(title=title, body=message.body)
            except DeliveryError as refused:
                return PushFailure(refused.message)
            if delivered:
                return None
            return PushFailure("Apprise could not deliver", transient=True)

        with ThreadPoolExecutor(max_workers=settings.CXHUB_PUSH_CONCURRENCY) as pool:
            results = list(pool.map(one, messages))
        return {m.customer_id: f for m, f in zip(messages, results, strict=True) if f}


class SmtpEmailProvider:
    """Send each message as one e-mail through Django's SMTP backend, over one connection.

    The server comes from EMAIL_URL (checked at startup) and passes the outbound
    guard like any destination (an internal relay is listed in
    CXHUB_OUTBOUND_ALLOW). A refused recipient or a 5xx answer fails that message;
    a 4xx answer or a lost connection leaves it to the batch's retry.
    """

    name = "smtp"

    def send(self, *, messages, title, reference):
        from cxhub import outbound

        if any(m.channel != "email" for m in messages):
            raise DeliveryError("The smtp provider sends e-mail only", permanent=True)
        try:
            outbound.check_host(settings.EMAIL_HOST, settings.EMAIL_PORT)
        except outbound.OutboundRefused as exc:
            raise DeliveryError(str(exc), permanent=True) from None
        connection = get_connection(settings.SMTP_BACKEND, fail_silently=False)
        try:
            connection.open()
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP server unreachable: {exc.__class__.__name__}") from exc
        failures = {}
        try:
            for index, message in enumerate(messages):
                email = EmailMessage(
                    subject=message.subject or title,
                    body=message.body,
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=[message.address],
                    # The receiver (or a log) can drop a copy a retried batch sends.
                    headers={"X-Cxhub-Reference": reference, **message.headers},
                    connection=connection,
                )
                try:
                    email.send()
                except smtplib.SMTPRecipientsRefused:
                    failures[message.customer_id] = PushFailure("Recipient refused by the server")
                except smtplib.SMTPResponseException as exc:
                    failures[message.customer_id] = PushFailure(
                        f"SMTP {exc.smtp_code}", transient=400 <= exc.smtp_code < 500
                    )
                except (OSError, smtplib.SMTPException) as exc:
                    # The connection is gone: this message and the rest wait for the retry.
                    for rest in messages[index:]:
                        failures[rest.customer_id] = PushFailure(
                            f"SMTP connection lost: {exc.__class__.__name__}", transient=True
                        )
                    break
        finally:
            try:
                connection.close()
            except Exception:  # closing a broken connection must not hide the outcome
                logger.debug("SMTP connection close failed", exc_info=True)
        return failures


PROVIDERS = {
    cls.name: cls
    for cls in (
        ConsoleFallbackProvider,
        LocmemFallbackProvider,
        WebhookFallbackProvider,
        AppriseFallbackProvider,
        SmtpEmailProvider,
    )
}


def get_fallback_provider(channel: str):
    """Return the provider configured for `channel` (sms or email)."""
    if channel not in CHANNELS:
        raise DeliveryError(f"Unknown fallback channel {channel!r}", permanent=True)
    name = _setting(channel, "PROVIDER")
    if name == SmtpEmailProvider.name and channel != "email":
        raise DeliveryError(f"Unknown {channel} provider {name!r}", permanent=True)
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise DeliveryError(f"Unknown {channel} provider {name!r}", permanent=True) from None


def provider_key(channel: str) -> str:
    """Return the name the ledger and the rate limit know the channel's provider by."""
    return f"{channel}:{_setting(channel, 'PROVIDER')}"
