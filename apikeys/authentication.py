"""`Authorization: Token <key>`: a person's API key, checked against its hash."""

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from apikeys.models import ApiKey, hash_key
from apikeys.services import api_key_touch
from cxhub.ratelimit import FailedAuthLimit


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticate a person by an API key that is neither revoked nor expired.

    The keyword stays DRF's `Token`, so clients of the old keys only change the key.
    Failures count against the shared limit of failed authentications.
    """

    keyword = b"token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        guard = FailedAuthLimit(request)
        guard.check()
        try:
            if len(parts) != 2:
                raise exceptions.AuthenticationFailed(_("Authorization: give 'Token <key>'."))
            try:
                key = parts[1].decode()
            except UnicodeDecodeError:
                raise exceptions.AuthenticationFailed(_("Authorization: invalid key.")) from None
            api_key = ApiKey.objects.select_related("user").filter(key_hash=hash_key(key)).first()
            if api_key is None or not api_key.user.is_active:
                raise exceptions.AuthenticationFailed(_("Authorization: invalid key."))
            if not api_key.is_usable():
                raise exceptions.AuthenticationFailed(
                    _("Authorization: this key is revoked or expired.")
                )
        except exceptions.AuthenticationFailed:
            guard.failed()
            raise
        api_key_touch(api_key)
        return api_key.user, api_key

    def authenticate_header(self, request):
        return "Token"
