"""Answer 503 with Retry-After while the database is unreachable, instead of a 500."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils.translation import gettext

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
