"""Push providers: how a customer push batch reaches devices.

One interface, `send(devices, title, body)`, chosen by CXHUB_PUSH_PROVIDER.
"""

import hashlib
import hmac
import json
import logging
from collections import Counter

import requests
from django.conf import settings

from notifications.channels.base import DeliveryError

logger = logging.getLogger("cxhub.push")

# Pushes the locmem provider "sent", for tests.
outbox: list[dict] = []


class ConsolePushProvider:
    name = "console"

    def send(self, *, devices, title, body, reference):
        # Counts per platform only: device tokens and customer ids stay out of logs.
        platforms = Counter(d.platform for d in devices)
        logger.warning(
            "PUSH %s to %d device(s) [%s] | %s",
            reference,
            len(devices),
            ", ".join(f"{platform}: {n}" for platform, n in sorted(platforms.items())),
            body,
        )


class LocmemPushProvider:
    name = "locmem"

    def send(self, *, devices, title, body, reference):
        outbox.append({"reference": reference, "tokens": [d.token for d in devices], "body": body})


class WebhookPushProvider:
    """POST the batch as JSON to the bank's push gateway, signed with HMAC-SHA256.

    The signature header is `X-Cxhub-Signature: sha256=<hex of HMAC(secret, body)>`.
    `reference` (incident and batch) lets the gateway drop a repeated batch.
    """

    name = "webhook"

    def send(self, *, devices, title, body, reference):
        url = settings.CXHUB_PUSH_WEBHOOK_URL
        if not url:
            raise DeliveryError("CXHUB_PUSH_WEBHOOK_URL is not set", permanent=True)
        payload = json.dumps(
            {
                "reference": reference,
                "title": title,
                "message": body,
                "recipients": [
                    {"device": d.token, "platform": d.platform, "locale": d.customer.locale}
                    for d in devices
                ],
            }
        ).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": reference}
        secret = settings.CXHUB_PUSH_WEBHOOK_SECRET
        if secret:
            digest = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
            headers["X-Cxhub-Signature"] = f"sha256={digest}"
        try:
            response = requests.post(
                url, data=payload, headers=headers, timeout=settings.CXHUB_HTTP_TIMEOUT
            )
        except requests.RequestException as exc:
            raise DeliveryError(f"Push gateway unreachable: {exc.__class__.__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryError(f"Push gateway answered {response.status_code}")
        if response.status_code >= 400:
            raise DeliveryError(
                f"Push gateway refused the batch: {response.status_code}", permanent=True
            )


PROVIDERS = {
    cls.name: cls for cls in (ConsolePushProvider, LocmemPushProvider, WebhookPushProvider)
}


def get_push_provider():
    """Return the configured push provider."""
    try:
        return PROVIDERS[settings.CXHUB_PUSH_PROVIDER]()
    except KeyError:
        raise DeliveryError(
            f"Unknown CXHUB_PUSH_PROVIDER {settings.CXHUB_PUSH_PROVIDER!r}", permanent=True
        ) from None
