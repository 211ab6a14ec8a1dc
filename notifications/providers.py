"""Push providers: how a customer push batch reaches devices.

One interface: `send(messages=[PushMessage(device, body)], title, reference)`
returns the failures by device id (a device absent from it was sent; transient
failures are retried for those devices only), or raises DeliveryError when the
whole batch failed (retried unless permanent). The
provider is chosen per action, else by CXHUB_PUSH_PROVIDER.
"""

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote

import requests
from django.conf import settings

from notifications.channels.base import DeliveryError, outbound_check

logger = logging.getLogger("cxhub.push")

# Pushes the locmem provider "sent", and per-token failures it should report, for tests.
outbox: list[dict] = []
locmem_failures: dict[str, "PushFailure"] = {}


@dataclass(frozen=True)
class PushMessage:
    device: object  # notifications.models.Device, with its customer loaded
    body: str


@dataclass(frozen=True)
class PushFailure:
    error: str
    # The provider says the token is dead (app uninstalled, bad token): disable the device.
    unregistered: bool = False
    # A per-token failure worth retrying (rate limit, provider 5xx).
    transient: bool = False


class ConsolePushProvider:
    name = "console"
    label = "Console (log only)"

    def send(self, *, messages, title, reference):
        # Counts per platform only: device tokens and customer ids stay out of logs.
        for body, group in _by_body(messages).items():
            platforms = Counter(m.device.platform for m in group)
            logger.warning(
                "PUSH %s to %d device(s) [%s] | %s",
                reference,
                len(group),
                ", ".join(f"{platform}: {n}" for platform, n in sorted(platforms.items())),
                body,
            )
        return {}


class LocmemPushProvider:
    name = "locmem"
    label = "Local memory (tests)"

    def send(self, *, messages, title, reference):
        failures = {
            m.device.pk: locmem_failures[m.device.token]
            for m in messages
            if m.device.token in locmem_failures
        }
        outbox.append(
            {
                "reference": reference,
                "title": title,
                "tokens": [m.device.token for m in messages],
                "bodies": {m.device.token: m.body for m in messages},
                "body": " | ".join(sorted({m.body for m in messages})),
            }
        )
        return failures


class WebhookPushProvider:
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
        outbound_check(url)
        payload = json.dumps(
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
            }
        ).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": reference}
        secret = settings.CXHUB_PUSH_WEBHOOK_SECRET
        if secret:
            headers["X-Cxhub-Signature"] = f"sha256={sign(secret, payload)}"
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
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        by_token = {m.device.token: m.device.pk for m in messages}
        failures = {}
        for token, error in (answer.get("failed") or {}).items():
            if token in by_token:
                failures[by_token[token]] = PushFailure(str(error)[:500])
        for token in answer.get("unregistered") or []:
            if token in by_token:
                failures[by_token[token]] = PushFailure("Unregistered", unregistered=True)
        return failures


def sign(secret: str, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of a webhook body, as the gateway must check it."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class ApprisePushProvider:
    """Send each device its push through Apprise (ntfy, Pushover, OneSignal, ...).

    CXHUB_PUSH_APPRISE_URL is an Apprise URL with a `{token}` placeholder that
    the device token fills, e.g. `ntfys://ntfy.example.com/{token}`.
    """

    name = "apprise"
    label = "Apprise (ntfy, Pushover, ...)"

    def send(self, *, messages, title, reference):
        import apprise

        template = settings.CXHUB_PUSH_APPRISE_URL
        if "{token}" not in template:
            raise DeliveryError(
                "CXHUB_PUSH_APPRISE_URL must contain {token}, e.g. ntfys://host/{token}",
                permanent=True,
            )
        outbound_check(template.replace("{token}", "token"), apprise=True)

        def one(message):
            notifier = apprise.Apprise()
            if not notifier.add(template.replace("{token}", quote(message.device.token, safe=""))):
                return PushFailure("Not a valid Apprise URL for this token")
            if notifier.notify(title=title, body=message.body):
                return None
            return PushFailure("Apprise could not deliver", transient=True)

        with ThreadPoolExecutor(max_workers=settings.CXHUB_PUSH_CONCURRENCY) as pool:
            results = list(pool.map(one, messages))
        return {m.device.pk: f for m, f in zip(messages, results, strict=True) if f}


FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
# FCM error codes that mean the token will never work again.
FCM_DEAD_TOKEN = {"UNREGISTERED", "INVALID_ARGUMENT"}
FCM_TRANSIENT = {"UNAVAILABLE", "INTERNAL", "QUOTA_EXCEEDED"}
_fcm_tokens: dict[tuple, tuple[str, float]] = {}
_fcm_lock = threading.Lock()


def fcm_credentials() -> dict:
    """Return the service-account JSON (CXHUB_FCM_CREDENTIALS_FILE) or fail permanently."""
    path = settings.CXHUB_FCM_CREDENTIALS_FILE
    if not path:
        raise DeliveryError("CXHUB_FCM_CREDENTIALS_FILE is not set", permanent=True)
    try:
        with open(path) as handle:
            account = json.load(handle)
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"Cannot read the FCM service account: {exc}", permanent=True) from exc
    missing = [k for k in ("project_id", "client_email", "private_key") if not account.get(k)]
    if missing:
        raise DeliveryError(f"The FCM service account lacks {', '.join(missing)}", permanent=True)
    return account


def fcm_access_token(client, account: dict) -> str:
    """Exchange a signed JWT for an OAuth2 access token, cached until shortly before expiry."""
    import jwt

    token_uri = settings.CXHUB_FCM_TOKEN_URI or account.get(
        "token_uri", "https://oauth2.googleapis.com/token"
    )
    key = (account["client_email"], token_uri)
    with _fcm_lock:
        cached = _fcm_tokens.get(key)
        if cached and cached[1] > time.time() + 60:
            return cached[0]
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iss": account["client_email"],
                "scope": FCM_SCOPE,
                "aud": token_uri,
                "iat": now,
                "exp": now + 3600,
            },
            account["private_key"],
            algorithm="RS256",
            headers={"kid": account.get("private_key_id", "")},
        )
        try:
            response = client.post(
                token_uri,
                data={
                    "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                    "assertion": assertion,
                },
            )
        except Exception as exc:
            raise DeliveryError(f"FCM OAuth unreachable: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            raise DeliveryError(
                f"FCM OAuth exchange answered {response.status_code}: {response.text[:200]}",
                permanent=400 <= response.status_code < 500 and response.status_code != 429,
            )
        answer = response.json()
        _fcm_tokens[key] = (answer["access_token"], now + int(answer.get("expires_in", 3600)))
        return answer["access_token"]


def fcm_forget_tokens() -> None:
    with _fcm_lock:
        _fcm_tokens.clear()


def _fcm_failure(response) -> PushFailure:
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    codes = [
        detail.get("errorCode")
        for detail in error.get("details", [])
        if isinstance(detail, dict) and detail.get("errorCode")
    ]
    code = codes[0] if codes else error.get("status", str(response.status_code))
    text = f"{code}: {error.get('message', '')}".strip(": ")[:500]
    transient = code in FCM_TRANSIENT or response.status_code == 429 or response.status_code >= 500
    if response.status_code == 401:
        fcm_forget_tokens()
        transient = True
    return PushFailure(text, unregistered=code in FCM_DEAD_TOKEN, transient=transient)


class FcmPushProvider:
    """Firebase Cloud Messaging HTTP v1: one request per token, several at a time.

    Auth is the service account's OAuth2 JWT-bearer exchange. Base URLs come from
    settings (CXHUB_FCM_BASE_URL, CXHUB_FCM_TOKEN_URI) so tests use a local server.
    """

    name = "fcm"
    label = "Firebase Cloud Messaging (HTTP v1)"

    def send(self, *, messages, title, reference):
        import httpx

        account = fcm_credentials()
        url = (
            f"{settings.CXHUB_FCM_BASE_URL.rstrip('/')}/v1/projects/"
            f"{account['project_id']}/messages:send"
        )
        workers = settings.CXHUB_PUSH_CONCURRENCY
        limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
        with httpx.Client(http2=True, timeout=settings.CXHUB_HTTP_TIMEOUT, limits=limits) as client:
            access_token = fcm_access_token(client, account)
            headers = {"Authorization": f"Bearer {access_token}"}

            def one(message):
                body = {
                    "message": {
                        "token": message.device.token,
                        "notification": {"title": title, "body": message.body},
                        "data": {"reference": reference},
                    }
                }
                try:
                    response = client.post(url, json=body, headers=headers)
                except httpx.HTTPError as exc:
                    return PushFailure(f"FCM unreachable: {exc.__class__.__name__}", transient=True)
                return None if response.status_code == 200 else _fcm_failure(response)

            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(one, messages))
        return {m.device.pk: f for m, f in zip(messages, results, strict=True) if f}


def _by_body(messages) -> dict[str, list]:
    groups: dict[str, list] = {}
    for message in messages:
        groups.setdefault(message.body, []).append(message)
    return groups


PROVIDERS = {
    cls.name: cls
    for cls in (
        ConsolePushProvider,
        LocmemPushProvider,
        WebhookPushProvider,
        ApprisePushProvider,
        FcmPushProvider,
    )
}
PUSH_PROVIDER_CHOICES = [(name, cls.label) for name, cls in PROVIDERS.items()]


def get_push_provider(name: str = ""):
    """Return the provider `name`, or the configured default when empty."""
    name = name or settings.CXHUB_PUSH_PROVIDER
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise DeliveryError(f"Unknown push provider {name!r}", permanent=True) from None
