"""Firebase Cloud Messaging HTTP v1, with the service account's OAuth2 JWT-bearer exchange."""

import functools
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

from notifications.errors import outbound_check, outbound_guarded
from notifications.providers.base import BasePushProvider, DeliveryError, PushFailure

logger = logging.getLogger("cxhub.push")

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


def fcm_token_uri(account: dict) -> str:
    """Return the OAuth2 token endpoint: the setting, else the service account's own."""
    return settings.CXHUB_FCM_TOKEN_URI or account.get(
        "token_uri", "https://oauth2.googleapis.com/token"
    )


def fcm_access_token(client, account: dict) -> str:
    """Exchange a signed JWT for an OAuth2 access token, cached until shortly before expiry."""
    import jwt

    token_uri = fcm_token_uri(account)
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
            # The body is Google's (or whoever answers there): logged for operators,
            # not stored where Support reads delivery errors.
            logger.warning(
                "FCM OAuth exchange answered %s: %s", response.status_code, response.text[:200]
            )
            raise DeliveryError(
                f"FCM OAuth exchange answered {response.status_code}",
                permanent=400 <= response.status_code < 500 and response.status_code != 429,
            )
        answer = response.json()
        _fcm_tokens[key] = (answer["access_token"], now + int(answer.get("expires_in", 3600)))
        return answer["access_token"]


@functools.cache
def _tls_context():
    # Loading the CA bundle costs ~25 ms of CPU: once per process, not once per batch.
    import ssl

    import certifi

    return ssl.create_default_context(cafile=certifi.where())


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


class FcmPushProvider(BasePushProvider):
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
        # The token endpoint may come from the service-account file: both pass the guard.
        outbound_check(fcm_token_uri(account))
        outbound_check(url)
        workers = settings.CXHUB_PUSH_CONCURRENCY
        limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
        with httpx.Client(
            http2=True, timeout=settings.CXHUB_HTTP_TIMEOUT, limits=limits, verify=_tls_context()
        ) as client:
            with outbound_guarded():
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
                    with outbound_guarded():
                        response = client.post(url, json=body, headers=headers)
                except DeliveryError as refused:
                    return PushFailure(refused.message)
                except httpx.HTTPError as exc:
                    return PushFailure(f"FCM unreachable: {exc.__class__.__name__}", transient=True)
                return None if response.status_code == 200 else _fcm_failure(response)

            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(one, messages))
        return {m.device.pk: f for m, f in zip(messages, results, strict=True) if f}
