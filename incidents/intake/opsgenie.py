"""The Opsgenie Alert API's requests, read into triggers. Pure functions but the lookups.

Opsgenie identifies an alert by its `alias` (the dedup key: a create for an alias
already open is the same alert), its `id` or its `tinyId`. Here the id is the
alias (or, for a create without one, the requestId it was answered), and the
tiny id is the number cxhub gives the alert when it counts it.
"""

import hashlib

from incidents.history.texts import detail
from incidents.history.timeline import event_add
from incidents.intake.parsers import FIRING, PayloadError, _trigger
from incidents.models import AlertInstance, Incident, TimelineEvent

IDENTIFIER_TYPES = ("id", "alias", "tiny")
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
MESSAGE_MAX = 130  # Opsgenie's own limit: longer messages are cut there too.


def alert_key(identifier: str) -> str:
    """Return the fingerprint of an alias or id (hashed when longer than a key may be)."""
    if len(identifier) <= 255:
        return identifier
    return "sha256:" + hashlib.sha256(identifier.encode()).hexdigest()


def parse_create(body, mapping: dict, *, request_id: str) -> dict:
    """Read a `POST /v2/alerts` create request into a firing trigger."""
    if not isinstance(body, dict):
        raise PayloadError("body", "must be a JSON object (an Opsgenie alert).")
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise PayloadError("message", "Message can not be empty.")
    for name in ("alias", "description", "source", "entity", "note"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise PayloadError(name, "must be a string.")
    if body.get("alias") and len(body["alias"]) > 512:
        raise PayloadError("alias", "longer than 512 characters.")
    if body.get("details") is not None and not isinstance(body["details"], dict):
        raise PayloadError("details", "must be an object of strings.")
    if body.get("tags") is not None and not isinstance(body["tags"], list):
        raise PayloadError("tags", "must be a list of strings.")
    if body.get("priority") is not None and body["priority"] not in PRIORITIES:
        raise PayloadError("priority", f"must be one of {', '.join(PRIORITIES)}.")
    trigger = _trigger(body, mapping, "")
    trigger["summary"] = trigger["summary"][:MESSAGE_MAX] or message.strip()[:MESSAGE_MAX]
    trigger["status"] = FIRING
    trigger["starts_at"] = None
    alias = body.get("alias") or ""
    trigger["fingerprint"] = alert_key(alias.strip() or request_id)
    return trigger


def identifier_fingerprint(integration, identifier: str, identifier_type: str) -> str | None:
    """Return the fingerprint an identifier names, or None for an unknown tiny id."""
    if identifier_type != "tiny":
        return alert_key(identifier)
    if not identifier.isdigit():
        return None
    alert = AlertInstance.objects.filter(integration=integration, pk=int(identifier)).first()
    return alert.fingerprint if alert else None


def alert_update_note(integration, fingerprint: str, what: str, text: str, *, at) -> int:
    """Put an alert's new `message` or `description` on its open incidents' timelines.

    Return how many incidents noted it. An update for an alert not counted yet
    (still waiting in the queue) or already resolved notes nothing.
    """
    incidents = Incident.objects.exclude(status=Incident.Status.RESOLVED).filter(
        alerts__integration=integration,
        alerts__fingerprint=fingerprint,
        alerts__status=AlertInstance.Status.FIRING,
    )
    noted = 0
    for incident in incidents.distinct():
        event_add(
            incident,
            TimelineEvent.Kind.ALERT_UPDATED,
            detail(f"alert_{what}", alert=fingerprint, text=text[:2000]),
            actor=integration.kind,
            at=at,
        )
        noted += 1
    return noted
