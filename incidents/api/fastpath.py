"""The storm's common request, `POST /api/v1/triggers` with a few good triggers, without DRF.

In an outage monitoring sends one request per failed call, so this is the hot
path. A request that is valid in every respect (the Bearer token of an enabled
cxhub integration, a JSON object of at most `FAST_BODY` bytes with one list of
well-formed triggers) is recorded here, by the same rules as `TriggerBatchSerializer`
and `IntegrationTokenAuthentication`, at about half the CPU. Anything else, every
error included, goes on to the DRF view, which says what is wrong: the fast path
answers only what the DRF view would answer 202 to. It runs as a middleware
(`FastIngestMiddleware`), ahead of the middleware only people's requests need.
"""

import json

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.urls import reverse
from rest_framework.exceptions import APIException

from cxhub import redact
from cxhub.api import decode_json, integration_for_token
from cxhub.middleware import database_unavailable
from cxhub.ratelimit import FailedAuthLimit
from incidents import services
from incidents.api.serializers import CODE_MAX_LENGTH, SERVICE_MAX_LENGTH
from incidents.models import Integration

# Storm requests are a few hundred bytes; a bigger body is worth the full parser.
FAST_BODY = 16 * 1024

# The list key -> its (service, code) keys, as TriggerBatchSerializer reads them.
LISTS = {"gatilhos": ("servico", "retorno"), "triggers": ("service", "code")}


def _clean(value, max_length: int) -> str | None:
    """What CharField makes of an ASCII string (stripped, not blank, short, no NUL), or None."""
    if not isinstance(value, str) or not value.isascii():
        return None  # anything else is the serializer's to judge
    value = value.strip()
    if not value or len(value) > max_length or "\x00" in value:
        return None
    return value


def triggers_of(data) -> list[dict] | None:
    """The triggers the serializer would accept from `data`, or None to let it judge."""
    if not isinstance(data, dict):
        return None
    given = [key for key in LISTS if key in data]
    if len(given) != 1:
        return None
    items = data[given[0]]
    if not isinstance(items, list) or not 0 < len(items) <= settings.CXHUB_MAX_TRIGGERS_PER_REQUEST:
        return None
    service_key, code_key = LISTS[given[0]]
    triggers = []
    for item in items:
        if not isinstance(item, dict):
            return None
        code = item.get(code_key)
        if type(code) is int:  # a whole number is as good as its digits; not a bool
            code = str(code)
        service = _clean(item.get(service_key), SERVICE_MAX_LENGTH)
        code = _clean(code, CODE_MAX_LENGTH)
        if service is None or code is None:
            return None
        triggers.append({"service": service.lower(), "code": code})
    return triggers


def _integration(request):
    """The enabled cxhub integration of a well-formed Bearer header and its token, or None.

    Nothing here counts a failure or raises: a request this refuses goes to the DRF
    view, whose IntegrationTokenAuthentication does both.
    """
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0].lower() != "bearer" or not parts[1].isascii():
        return None
    try:
        FailedAuthLimit(request).check()
    except APIException:
        return None  # refused: the DRF view answers 429
    integration = integration_for_token(token := parts[1])
    if integration is None or not integration.enabled:
        return None
    return (integration, token) if integration.kind == Integration.Kind.CXHUB else None


def _accepts_json(request) -> bool:
    accept = request.META.get("HTTP_ACCEPT", "")
    return not accept or "*/*" in accept or "application/json" in accept


def _record(request):
    """Record the request and return its 202, or None when the DRF view must judge it."""
    meta = request.META
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not (
        0 < length <= FAST_BODY
        and meta.get("CONTENT_TYPE", "").startswith("application/json")
        and _accepts_json(request)
    ):
        return None
    if (sender := _integration(request)) is None:
        return None
    integration, token = sender
    try:
        data = decode_json(request.body)
    except (ValueError, RecursionError, APIException):
        return None
    triggers = triggers_of(data)
    if triggers is None:
        return None
    report, rows = services.report_ingest(
        integration=integration,
        triggers=triggers,
        # The token, as redact.request_secrets(request) would find it: no token in the path here.
        payload=redact.payload(data, secrets=[token]),
    )
    body = {
        "report": str(report.id),
        "triggers": [
            {"id": t.id, "service": t.service, "code": t.code, "matched": t.matched} for t in rows
        ],
    }
    response = HttpResponse(
        json.dumps(body, separators=(",", ":")), status=202, content_type="application/json"
    )
    response["Vary"] = "Accept"
    response["Allow"] = "POST, OPTIONS"
    return response


class FastIngestMiddleware:
    """Answer valid trigger posts before the middleware a person's request needs.

    Placed after the middleware every response needs (metrics, security headers,
    chunked bodies, `no-store`; a lost database is answered 503 here, as the
    database-unavailable middleware answers a view) and before sessions,
    locale, CSRF, authentication, messages, frame and CSP headers, which a
    monitoring sender's JSON POST uses none of: they cost more CPU than the rest
    of a recorded trigger. A request the fast path declines goes on through every
    middleware to the DRF view, which judges it.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.paths = None

    def __call__(self, request):
        if request.method == "POST":
            if self.paths is None:  # the URLconf is loaded by the first request, not here
                self.paths = {reverse("api-triggers"), reverse("api-triggers-alias")}
            if request.path in self.paths:
                try:
                    response = _record(request)
                except (OperationalError, InterfaceError) as exception:
                    response = database_unavailable(request, exception)
                if response is not None:
                    return response
        return self.get_response(request)
