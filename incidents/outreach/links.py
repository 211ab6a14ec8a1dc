"""Signed, expiring one-click acknowledge links carried by every page message."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

# A salt of its own: a token signed for anything else in cxhub never passes here.
SALT = "cxhub.incidents.acknowledge-link"


def acknowledge_token(incident_id, person_id=None) -> str:
    """Return a token naming the incident (and the person paged), signed with its time.

    A page to one person on call carries a link naming them, so the acknowledgement
    says whose page was answered.
    """
    value = str(incident_id) if person_id is None else f"{incident_id}:{person_id}"
    return signing.TimestampSigner(salt=SALT).sign(value)


def acknowledge_url(incident, person=None) -> str:
    token = acknowledge_token(incident.pk, None if person is None else person.pk)
    path = reverse("incident-acknowledge-link", args=[incident.pk, token])
    return f"{settings.CXHUB_BASE_URL}{path}"


def link_named(token: str) -> tuple[str, int | None]:
    """Return the incident id a token names, and the person's id when it names one.

    Raise signing.SignatureExpired past CXHUB_ACK_LINK_MAX_AGE, or
    signing.BadSignature for anything not made by `acknowledge_token`.
    """
    value = signing.TimestampSigner(salt=SALT).unsign(
        token, max_age=settings.CXHUB_ACK_LINK_MAX_AGE
    )
    incident_id, _sep, person = value.partition(":")
    return incident_id, int(person) if person.isdigit() else None


def incident_id_from(token: str) -> str:
    """Return the incident id a token names (see `link_named`)."""
    return link_named(token)[0]
