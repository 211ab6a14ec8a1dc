"""One HTTP helper for the importers: GET JSON from a tool's REST API, or say clearly why not."""

import time
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings

from cxhub import outbound

# A 429 is waited out this many times (Retry-After, at most MAX_WAIT seconds each).
RETRIES = 3
MAX_WAIT = 30.0


class SourceError(Exception):
    """The source could not be read (bad key, unreachable, not its API); the message says why."""


class Client:
    """GET JSON from one API root with its credentials, never sending them to another host.

    The URL passes the outbound guard first: a CX staff member types it, and the
    key must not reach an internal address (`CXHUB_OUTBOUND_ALLOW` opens one).
    Redirects are not followed, so the key goes nowhere else either.
    """

    def __init__(self, base_url: str, headers: dict, error_text: Callable[[dict], str]):
        if not base_url.endswith("/"):
            base_url += "/"
        try:
            outbound.check_url(base_url)
        except outbound.OutboundRefused as refused:
            raise SourceError(f"{base_url}: {refused}") from None
        self.base_url = base_url
        self.origin = urlsplit(base_url)[:2]
        self.error_text = error_text
        self.session = requests.Session()
        self.session.headers.update(headers)
        self.requests = 0

    def get(self, path: str, params: dict | None = None) -> dict:
        """Return the JSON object at `path` (relative to the root, or a full URL on its host)."""
        url = urljoin(self.base_url, path.lstrip("/")) if "://" not in path else path
        if urlsplit(url)[:2] != self.origin:
            raise SourceError(f"The API pointed to another host ({url}); not following it.")
        for attempt in range(RETRIES + 1):
            try:
                response = self.session.get(
                    url, params=params, timeout=settings.CXHUB_HTTP_TIMEOUT, allow_redirects=False
                )
            except requests.RequestException as exc:
                raise SourceError(
                    f"{self.base_url} is unreachable ({exc.__class__.__name__}): check --api-url."
                ) from None
            self.requests += 1
            if response.status_code == 429 and attempt < RETRIES:
                time.sleep(min(_seconds(response.headers.get("Retry-After")), MAX_WAIT))
                continue
            return self._body(response, url)
        raise AssertionError("unreachable")  # pragma: no cover

    def _body(self, response: requests.Response, url: str) -> dict:
        try:
            body = response.json()
        except ValueError:
            body = None
        status = response.status_code
        if status in (401, 403):
            raise SourceError(
                f"The API key was refused (HTTP {status}: {self._why(body)}): check --api-key "
                "and that the key may read users, teams, schedules and escalations."
            )
        if status >= 300:
            raise SourceError(f"GET {url} answered HTTP {status}: {self._why(body)}")
        if not isinstance(body, dict):
            raise SourceError(f"GET {url} did not answer JSON: is --api-url the API's root?")
        return body

    def _why(self, body) -> str:
        text = self.error_text(body) if isinstance(body, dict) else ""
        return text or "no explanation given"


def _seconds(value: str | None) -> float:
    try:
        return max(float(value or 1), 0.0)
    except ValueError:
        return 1.0
