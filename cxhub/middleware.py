"""Answer 503 with Retry-After while the database is unreachable, instead of a 500."""

import io
import logging
import time

from django.conf import settings
from django.contrib.auth import logout
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.urls import reverse
from django.utils.translation import gettext

from cxhub.api import oversize_detail
from cxhub.ratelimit import FailedAuthLimit

logger = logging.getLogger("cxhub.availability")

RETRY_AFTER_SECONDS = 5


def database_unavailable_response() -> JsonResponse:
    response = JsonResponse(
        {"detail": gettext("The database is unavailable; retry shortly.")},
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Turn a lost database connection into 503, so senders retry instead of giving up.

    Nothing was accepted when this happens (the ingest transaction did not commit),
    so the sender's retry is what keeps the trigger from being lost. Django's
    CONN_HEALTH_CHECKS drop the broken connection on the next request, which is how
    the process recovers by itself once the database is back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return database_unavailable(request, exception)


def database_unavailable(request, exception: Exception) -> JsonResponse | None:
    """Answer a lost database with 503 + Retry-After (and say so once in the log).

    Views reach this through the middleware's `process_exception`; a middleware that
    answers by itself (the ingest fast path) calls it, since Django turns an exception
    raised in a middleware into a 500 before any `process_exception` sees it.
    """
    if isinstance(exception, OperationalError | InterfaceError):
        logger.warning(
            "Database unavailable on %s %s: %s",
            request.method,
            request.path,
            exception.__class__.__name__,
        )
        return database_unavailable_response()
    return None


class ChunkedBodyMiddleware:
    """Give a chunked request body (no Content-Length) its length, or answer 411/413.

    Django bounds the body by Content-Length, so a chunked one would read as empty
    and its triggers be lost without a word. gunicorn decodes chunked bodies and
    marks its input `wsgi.input_terminated`: there the input is read to its end, at
    most CXHUB_MONITORING_MAX_BODY bytes (each endpoint's parser then applies its
    own limit). A server that cannot end the input (the development server) gets
    411, so the sender knows to send a length.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        if (
            not meta.get("CONTENT_LENGTH")
            and "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            if not meta.get("wsgi.input_terminated"):
                return JsonResponse(
                    {
                        "detail": gettext(
                            "Send a Content-Length header: this server cannot read a chunked body."
                        )
                    },
                    status=411,
                )
            limit = settings.CXHUB_MONITORING_MAX_BODY
            body = meta["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return JsonResponse({"detail": oversize_detail(limit)}, status=413)
            request._stream = io.BytesIO(body)
            meta["CONTENT_LENGTH"] = str(len(body))
        return self.get_response(request)


class AdminLoginLimitMiddleware:
    """Answer 429 to an admin login from an address over the failed-authentication limit.

    django-axes locks one username from one address; a spray over many usernames
    never trips it. The per-address count (failed passwords count there too, see
    apikeys.apps) is checked here first, before any password is hashed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path == reverse("admin:login"):
            refused = FailedAuthLimit(request).response()
            if refused is not None:
                return refused
        return self.get_response(request)


class IdleSessionMiddleware:
    """End a signed-in session idle for CXHUB_SESSION_IDLE_MINUTES.

    A page's own polling (`…/state.json`) is not activity: an open tab on a
    shared desk would otherwise keep the session alive forever. The time seen
    is written at most once a minute, so a page view costs no session write.
    """

    KEY = "cxhub_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            seen = request.session.get(self.KEY)
            if seen is not None and now - seen > settings.CXHUB_SESSION_IDLE_MINUTES * 60:
                logout(request)
            elif not request.path.endswith("/state.json") and (seen is None or now - seen >= 60):
                request.session[self.KEY] = now
        return self.get_response(request)


class NoStoreMiddleware:
    """Mark every response that sets no caching of its own `Cache-Control: no-store`.

    Support pages, the admin and the incident API show customers' phones, e-mails and
    incident details: neither a browser's back button on a shared desk nor a proxy may
    keep them. Public pages that may be cached (the status page) say so themselves,
    and static files never reach here (WhiteNoise answers them first).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response
