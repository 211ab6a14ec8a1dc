"""Signed, expiring one-click acknowledge links carried by every page message."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

# A salt of its own: a token signed for anything else in cxhub never passes here.
SALT = "cxhub.incidents.acknowledge-link"


def acknowledge_token(incident_id) -> str:
    """Return a token naming the incident, signed with the time it was made."""
    return signing.TimestampSigner(salt=SALT).sign(str(incident_id))


def acknowledge_url(incident) -> str:
    path = reverse("incident-acknowledge-link", args=[incident.pk, acknowledge_token(incident.pk)])
    return f"{settings.CXHUB_BASE_URL}{path}"


def incident_id_from(token: str) -> str:
    """Return the incident id a token names.

    Raise signing.SignatureExpired past CXHUB_ACK_LINK_MAX_AGE, or
    signing.BadSignature for anything not made by `acknowledge_token`.
    """
    return signing.TimestampSigner(salt=SALT).unsign(token, max_age=settings.CXHUB_ACK_LINK_MAX_AGE)
