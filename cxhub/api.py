"""Shared API pieces: integration-token authentication and error format."""

import json
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, permissions, status
from rest_framework.authentication import get_authorization_header
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import BaseParser
from rest_framework.views import exception_handler as drf_exception_handler

from cxhub import hotcache
from cxhub.authentication import KeywordAuthentication


class IntegrationPrincipal:
    """The authenticated sender of an ingest request (request.user)."""

    is_authenticated = True
    is_staff = False

    def __init__(self, integration):
        self.integration = integration

    def __str__(self):
        return f"integration:{self.integration.name}"


def integration_for_token(token: str):
    """Return the integration whose token this is (stored hashed), or None; cached briefly."""
    from incidents.models import Integration, hash_token

    digest = hash_token(token)
    return hotcache.integrations.get(
        digest, lambda: Integration.objects.filter(token_hash=digest).first()
    )


USE_BEARER = gettext_lazy(
    "This is an integration token: send it as 'Authorization: Bearer <token>', not 'Token'."
)


class IntegrationTokenAuthentication(KeywordAuthentication):
    """`Authorization: Bearer <token>` of an enabled integration (stored hashed)."""

    keyword = b"bearer"
    malformed = gettext_lazy("Authorization: give 'Bearer <token>'.")
    invalid = gettext_lazy("Authorization: invalid token.")

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) == 2 and parts[0].lower() == b"token":
            # DRF's habit: an integration token sent as `Token` is answered with the
            # scheme to use; a personal API key there is left to ApiKeyAuthentication.
            try:
                token = parts[1].decode()
            except UnicodeDecodeError:
                token = ""
            if token and integration_for_token(token) is not None:
                raise exceptions.AuthenticationFailed(USE_BEARER)
        return super().authenticate(request)

    def authenticate_credential(self, credential):
        integration = integration_for_token(credential)
        if integration is None:
            raise exceptions.AuthenticationFailed(self.invalid)
        if not integration.enabled:
            raise exceptions.PermissionDenied(_("This integration is disabled."))
        return IntegrationPrincipal(integration), integration

    def authenticate_header(self, request):
        return 'Bearer realm="cxhub"'


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


def decode_json(body: bytes):
    """Decode a request body as cxhub stores JSON: no NaN/Infinity, no NUL, bounded depth.

    Raises ValueError (or RecursionError) for what is not JSON, ParseError for what
    is JSON but cannot be stored.
    """
    data = json.loads(body, parse_constant=_reject_constant)
    check_json(data)
    return data


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
            return decode_json(body)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from None


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
    """Allow integration tokens of one kind only: a token's kind is its scope.

    Subclass with `kind` set, or use `integration_of_kind`. A token of another
    kind is refused with a 403 naming the endpoint its token is for.
    """

    kind = ""

    def has_permission(self, request, view):
        user = request.user
        if not isinstance(user, IntegrationPrincipal):
            return False
        integration = user.integration
        if integration.kind == self.kind:
            return True
        self.message = out_of_scope(integration)
        return False


def out_of_scope(integration) -> str:
    """Say why an integration's token is refused here, naming the endpoint it is for."""
    return _(
        "This token belongs to a '%(kind)s' integration, which may not call this "
        "endpoint; send to %(endpoint)s."
    ) % {"kind": integration.kind, "endpoint": integration.endpoint}


def integration_of_kind(kind: str) -> type[IsIntegration]:
    """Return a permission class that admits integration tokens of `kind` only."""
    return type(f"IsIntegration_{kind}", (IsIntegration,), {"kind": kind})


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


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """Limit/offset paging that answers 400 for a `limit` or `offset` that is not a number.

    DRF's own falls back to the default on `?offset=abc`, accepting what the schema
    says is invalid; the schema here also states the bounds it enforces.
    """

    max_limit = 500

    def get_limit(self, request):
        limit = self._whole_number(
            request, self.limit_query_param, minimum=1, maximum=self.max_limit
        )
        return self.default_limit if limit is None else limit

    def get_offset(self, request):
        return self._whole_number(request, self.offset_query_param, minimum=0) or 0

    @staticmethod
    def _whole_number(request, name, *, minimum, maximum=None):
        raw = request.query_params.get(name)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or not raw.isdigit() or value < minimum:
            raise exceptions.ValidationError(
                {name: [_("Give a whole number of at least %(n)d.") % {"n": minimum}]}
            )
        if maximum is not None and value > maximum:
            raise exceptions.ValidationError(
                {name: [_("Give a whole number of at most %(n)d.") % {"n": maximum}]}
            )
        return value

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
