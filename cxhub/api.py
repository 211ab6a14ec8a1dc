"""Shared API pieces: integration-token authentication and error format."""

import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, permissions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.parsers import JSONParser
from rest_framework.views import exception_handler as drf_exception_handler


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
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Authorization: give 'Bearer <token>'."))
        try:
            token = parts[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Authorization: invalid token.")) from None
        integration = Integration.objects.filter(token_hash=hash_token(token)).first()
        if integration is None:
            raise exceptions.AuthenticationFailed(_("Authorization: invalid token."))
        if not integration.enabled:
            raise exceptions.PermissionDenied(_("This integration is disabled."))
        return IntegrationPrincipal(integration), integration

    def authenticate_header(self, request):
        return 'Bearer realm="cxhub"'


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is larger than 1 MiB.")
    default_code = "payload_too_large"


class LimitedJSONParser(JSONParser):
    """Parse JSON of at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes, else answer 413.

    DRF reads the raw stream, past Django's own body-size check, so the limit is
    enforced here on the bytes actually read, chunked uploads included.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge()
        return super().parse(io.BytesIO(body), media_type, parser_context)


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
