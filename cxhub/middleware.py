"""Answer 503 with Retry-After while the database is unreachable, instead of a 500."""

import io
import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils.translation import gettext

from cxhub.api import oversize_detail

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
