"""`Authorization: Token <key>`: a person's API key, checked against its hash."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions

from apikeys.models import ApiKey, hash_key
from apikeys.services import api_key_touch
from cxhub.authentication import KeywordAuthentication


class ApiKeyAuthentication(KeywordAuthentication):
    """Authenticate a person by an API key that is neither revoked nor expired.

    The keyword stays DRF's `Token`, so clients of the old keys only change the key.
    Failures count against the shared limit of failed authentications.
    """

    keyword = b"token"
    malformed = gettext_lazy("Authorization: give 'Token <key>'.")
    invalid = gettext_lazy("Authorization: invalid key.")

    def authenticate_credential(self, credential):
        api_key = (
            ApiKey.objects.select_related("user").filter(key_hash=hash_key(credential)).first()
        )
        # A key acts as its owner: someone no longer active or staff has no role left.
        if api_key is None or not (api_key.user.is_active and api_key.user.is_staff):
            raise exceptions.AuthenticationFailed(self.invalid)
        if not api_key.is_usable():
            raise exceptions.AuthenticationFailed(
                _("Authorization: this key is revoked or expired.")
            )
        api_key_touch(api_key)
        return api_key.user, api_key

    def authenticate_header(self, request):
        return "Token"
