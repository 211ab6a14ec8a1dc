import hashlib
import hmac
import json

import requests
from django.conf import settings

from notifications.errors import outbound_check, outbound_guarded
from notifications.providers.base import BasePushProvider, DeliveryError, PushFailure


class WebhookPushProvider(BasePushProvider):
    """POST the batch as JSON to the bank's push gateway, signed with HMAC-SHA256.

    The signature header is `X-Cxhub-Signature: sha256=<hex of HMAC(secret, body)>`.
    `reference` (incident and batch) lets the gateway drop a repeated batch. The
    gateway may answer `{"unregistered": [token, ...], "failed": {token: error}}`.
    """

    name = "webhook"
    label = "Push gateway webhook"

    def send(self, *, messages, title, reference):
        url = settings.CXHUB_PUSH_WEBHOOK_URL
        if not url:
            raise DeliveryError("CXHUB_PUSH_WEBHOOK_URL is not set", permanent=True)
        answer = signed_post(
            url,
            {
                "reference": reference,
                "title": title,
                "recipients": [
                    {
                        "device": m.device.token,
                        "platform": m.device.platform,
                        "locale": m.device.customer.locale,
                        "message": m.body,
                    }
                    for m in messages
                ],
            },
            secret=settings.CXHUB_PUSH_WEBHOOK_SECRET,
            reference=reference,
            gateway="Push gateway",
        )
        by_token = {m.device.token: m.device.pk for m in messages}
        failures = {}
        for token, error in (answer.get("failed") or {}).items():
            if token in by_token:
                failures[by_token[token]] = PushFailure(str(error)[:500])
        for token in answer.get("unregistered") or []:
            if token in by_token:
                failures[by_token[token]] = PushFailure("Unregistered", unregistered=True)
        return failures


def signed_post(url: str, body: dict, *, secret: str, reference: str, gateway: str) -> dict:
    """POST a JSON batch to a bank gateway, signed, keyed; return its JSON answer ({} if none).

    The URL passes the outbound guard first, the connection passes it again, and a
    redirect is not followed (a 3xx is a refusal); the signature header is
    `X-Cxhub-Signature: sha256=<hex HMAC(secret, body)>` when a secret is set, and
    `Idempotency-Key: <reference>` lets the gateway drop a repeated batch. A 5xx or
    429 is retried, another 4xx is final.
    """
    outbound_check(url)
    payload = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": reference}
    if secret:
        headers["X-Cxhub-Signature"] = f"sha256={sign(secret, payload)}"
    try:
        with outbound_guarded():
            response = requests.post(
                url,
                data=payload,
                headers=headers,
                timeout=settings.CXHUB_HTTP_TIMEOUT,
                allow_redirects=False,
            )
    except requests.RequestException as exc:
        raise DeliveryError(f"{gateway} unreachable: {exc.__class__.__name__}") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise DeliveryError(f"{gateway} answered {response.status_code}")
    if response.status_code >= 300:
        raise DeliveryError(f"{gateway} refused the batch: {response.status_code}", permanent=True)
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def sign(secret: str, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of a webhook body, as the gateway must check it."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
