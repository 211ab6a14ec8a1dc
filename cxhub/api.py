"""Shared API pieces: integration-token authentication and error format."""

import json
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, permissions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.parsers import BaseParser
from rest_framework.views import exception_handler as drf_exception_handler

from cxhub import hotcache


class IntegrationPrincipal:
    """The authenticated sender of an ingest request (request.user)."""

    is_authenticated = True
    is_staff = False

    def __init__(self, integration):
        self.integration = integration

    def __str__(self):
        return f"integration:{self.integration.name}"


class IntegrationTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` of an enabled integration (stored hashed)."""

    keyword = b"bearer"

    def authenticate(self, request):
        from incidents.models import Integration, hash_token

        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        guard = FailedAuthLimit(request)
        guard.check()
        if len(parts) != 2:
            guard.failed()
            raise exceptions.AuthenticationFailed(_("Authorization: give 'Bearer <token>'."))
        try:
            token = parts[1].decode()
        except UnicodeDecodeError:
            guard.failed()
            raise exceptions.AuthenticationFailed(_("Authorization: invalid token.")) from None
        digest = hash_token(token)
        integration = hotcache.integrations.get(
            digest, lambda: Integration.objects.filter(token_hash=digest).first()
        )
        if integration is None:
            guard.failed()
            raise exceptions.AuthenticationFailed(_("Authorization: invalid token."))
        if not integration.enabled:
            raise exceptions.PermissionDenied(_("This integration is disabled."))
        return IntegrationPrincipal(integration), integration

    def authenticate_header(self, request):
        return 'Bearer realm="cxhub"'


def client_ip(request) -> str:
    """Return the client's address: REMOTE_ADDR, or the proxy's last X-Forwarded-For hop."""
    if settings.CXHUB_BEHIND_TLS_PROXY:
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

    def check(self):
        limit = settings.CXHUB_AUTH_FAILURES_PER_MINUTE
        if limit and cache.get(self.key, 0) >= limit:
            raise exceptions.Throttled(
                wait=60 - time.time() % 60,
                detail=_("Too many failed authentications from this address; retry later."),
            )

    def failed(self):
        if cache.add(self.key, 1, timeout=120):
            return
        try:
            cache.incr(self.key)
        except ValueError:  # expired between add and incr
            cache.add(self.key, 1, timeout=120)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is larger than 1 MiB.")
    default_code = "payload_too_large"


def mib(size: int) -> str:
    """Say a byte count in MiB the way limits are configured ("10 MiB", "1.5 MiB")."""
    return f"{size / (1024 * 1024):g} MiB"


def oversize_detail(limit: int, hint: str = "") -> str:
    """Say the limit and, to monitoring senders, how to split the notification."""
    text = _("The request body is larger than %(limit)s.") % {"limit": mib(limit)}
    return f"{text} {hint}".strip()


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


class LimitedJSONParser(BaseParser):
    """Parse JSON of at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes, else answer 413.

    Not a JSONParser subclass on purpose: DRF hands those a copy of
    `request.body`, which Django refuses past DATA_UPLOAD_MAX_MEMORY_SIZE whatever
    the endpoint. Here the stream is read once, within this endpoint's limit (a
    declared Content-Length over it is refused before reading), and decoded by one
    `json.loads`. Chunked bodies get their length in ChunkedBodyMiddleware.
    """

    media_type = "application/json"

    def body_limit(self) -> int:
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def parse(self, stream, media_type=None, parser_context=None):
        context = parser_context or {}
        limit = self.body_limit()
        hint = getattr(context.get("view"), "oversize_hint", "")
        request = context.get("request")
        meta = request.META if request is not None else {}
        try:
            declared = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            raise PayloadTooLarge(oversize_detail(limit, hint))
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(oversize_detail(limit, hint))
        try:
            data = json.loads(body, parse_constant=_reject_constant)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from None
        del body
        check_json(data)
        return data


class MonitoringJSONParser(LimitedJSONParser):
    """The same, up to CXHUB_MONITORING_MAX_BODY (10 MiB): a 5,000-alert group fits."""

    def body_limit(self) -> int:
        return settings.CXHUB_MONITORING_MAX_BODY


# Real monitoring payloads nest a few levels; deeper is an attack on whatever
# walks the document later (serializers, PostgreSQL's jsonb parser).
MAX_JSON_DEPTH = 32
# NUL and unpaired surrogates are valid JSON escapes that PostgreSQL text/jsonb
# and UTF-8 cannot store: refuse them up front instead of failing on insert.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def check_json(data) -> None:
    """Raise ParseError for too-deep nesting or unstorable characters, without recursion."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if UNSTORABLE.search(value):
                raise exceptions.ParseError(
                    "JSON parse error - NUL characters and unpaired surrogates are not allowed."
                )
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise exceptions.ParseError(
                    f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."
                )
            if isinstance(value, dict):
                stack.extend((key, depth) for key in value)
                stack.extend((child, depth + 1) for child in value.values())
            else:
                stack.extend((child, depth + 1) for child in value)


class IsIntegration(permissions.BasePermission):
    """Allow requests authenticated by an integration token."""

    def has_permission(self, request, view):
        return isinstance(request.user, IntegrationPrincipal)


class HasRequiredPermissions(permissions.BasePermission):
    """Allow users holding every model permission in the view's `required_permissions`.

    The role groups (support.roles) grant these; being staff alone is not enough.
    """

    def has_permission(self, request, view):
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and not isinstance(user, IntegrationPrincipal)
            and user.has_perms(getattr(view, "required_permissions", ()))
        )


def exception_handler(exc, context):
    """Answer oversize bodies with 413 (Django raises RequestDataTooBig as a 400)."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    return drf_exception_handler(exc, context)
