"""Liveness and readiness probes for load balancers and orchestrators."""

import logging

from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger("cxhub.health")


def healthz(request):
    """Answer 200 while the process serves requests (it checks nothing else)."""
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("Readiness: database unreachable", exc_info=True)
        return False


def _broker_ok() -> bool:
    from cxhub.celery import app

    try:
        with app.connection_for_write() as conn:
            # One attempt with the transport's short connect timeout: a probe must not hang.
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.warning("Readiness: broker unreachable", exc_info=True)
        return False


def readyz(request):
    """Answer 200 when the database and the broker are reachable, 503 otherwise."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    ready = all(checks.values())
    response = JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
    if not ready:
        response["Retry-After"] = "5"
    return response
