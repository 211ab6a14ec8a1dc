"""Credential authentication shared by API keys and integration tokens.

Kept apart from `cxhub.api`: DRF imports the authentication classes while
`rest_framework.views` is still loading, so this module imports nothing of it.
"""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from cxhub.ratelimit import FailedAuthLimit


class KeywordAuthentication(BaseAuthentication):
    """`Authorization: <keyword> <credential>`, failed attempts limited per address.

    A subclass sets `keyword` and its two messages and implements `authenticate_credential`;
    an AuthenticationFailed from a malformed header or from the subclass counts
    against FailedAuthLimit, anything else it raises (a PermissionDenied) does not.
    """

    keyword = b""
    malformed = invalid = ""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        guard = FailedAuthLimit(request)
        guard.check()
        try:
            if len(parts) != 2:
                raise exceptions.AuthenticationFailed(self.malformed)
            try:
                credential = parts[1].decode()
            except UnicodeDecodeError:
                raise exceptions.AuthenticationFailed(self.invalid) from None
            return self.authenticate_credential(credential)
        except exceptions.AuthenticationFailed:
            guard.failed()
            raise

    def authenticate_credential(self, credential: str):
        raise NotImplementedError
