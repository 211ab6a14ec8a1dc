"""One limiter of failed authentications, shared by every authentication path and process."""

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions

logger = logging.getLogger("cxhub.ratelimit")


def _counted(call, default):
    """Return call(), or `default` when the cache cannot be reached.

    The limit keeps scanners off the database; it is no reason to refuse a request.
    With the shared cache down (Redis stopped, this host cut off from it) requests
    go through uncounted instead of answering 500.
    """
    try:
        return call()
    except Exception as error:  # each cache backend has its own errors, with no common base
        logger.warning("failed-authentication counts unavailable: %s", error)
        return default


def too_many() -> str:
    return _("Too many failed authentications from this address; retry later.")


def client_ip(request) -> str:
    """Return the client's address: REMOTE_ADDR, or the proxy's last X-Forwarded-For hop."""
    if settings.CXHUB_BEHIND_PROXY or settings.CXHUB_BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            # The last hop is what the trusted proxy appended; earlier ones are hearsay.
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


class FailedAuthLimit:
    """Answer 429 to a client address after too many failed token checks in a minute.

    Tokens are 256 random bits, so guessing cannot succeed; the limit keeps a
    scanner from costing a database query per guess. Counts live in the Django
    cache (CACHE_URL): per process by default, shared when it points at Redis.
    """

    def __init__(self, request):
        self.window = int(time.time() // 60)
        self.key = f"cxhub:authfail:{client_ip(request)}:{self.window}"

    def exceeded(self) -> float | None:
        """Return the seconds to wait when the address is over the limit, else None."""
        limit = settings.CXHUB_AUTH_FAILURES_PER_MINUTE
        if limit and _counted(lambda: cache.get(self.key, 0), 0) >= limit:
            return 60 - time.time() % 60
        return None

    def check(self):
        """Raise DRF's Throttled (429) when the address is over the limit."""
        wait = self.exceeded()
        if wait is not None:
            raise exceptions.Throttled(wait=wait, detail=too_many())

    def response(self):
        """Return a plain 429 for a view outside DRF when over the limit, else None."""
        wait = self.exceeded()
        if wait is None:
            return None
        response = HttpResponse(f"{too_many()}\n", status=429, content_type="text/plain")
        response["Retry-After"] = str(math.ceil(wait))
        return response

    def failed(self):
        _counted(self._count, None)

    def _count(self):
        if cache.add(self.key, 1, timeout=120):
            return
        try:
            cache.incr(self.key)
        except ValueError:  # expired between add and incr
            cache.add(self.key, 1, timeout=120)


def over_limit(scope: str, who: str, *, limit: int, seconds: int = 3600) -> bool:
    """Count one hit of `who` in `scope` for the current window; return whether it is past `limit`.

    Fixed windows of `seconds`, counted in the Django cache like the failed
    authentications (shared when CACHE_URL points at Redis); 0 means no limit.
    `who` goes into a cache key: pass an address or a digest, never free text.
    """
    if not limit:
        return False
    return _counted(
        lambda: _hit(f"cxhub:{scope}:{who}:{int(time.time() // seconds)}", seconds, limit), False
    )


def _hit(key: str, seconds: int, limit: int) -> bool:
    if cache.add(key, 1, timeout=seconds * 2):
        return limit < 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=seconds * 2)
        count = 1
    return count > limit
