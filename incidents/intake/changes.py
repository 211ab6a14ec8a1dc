"""Change events (deploys, configuration changes) per service, and the ones near an incident.

"What changed?" is the first question of every incident call: the support page
and the incident's timeline show the changes to its services from an hour
before it opened.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import pgettext_lazy

from incidents.intake.parsers import PagerDutyError, PayloadError, lookup
from incidents.models import ChangeEvent

BEFORE_OPENING = timedelta(hours=1)


def _links(value, field) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(link, dict) and isinstance(link.get("href"), str) for link in value
    ):
        raise PayloadError(field, "must be a list of {href, text} objects.")
    return [
        {"href": link["href"][:2000], "text": str(link.get("text", ""))[:200]} for link in value
    ]


def _time(value, field) -> datetime | None:
    if value is None:
        return None
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        raise PayloadError(field, "not an ISO 8601 time.")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(value, field, *, max_length, required=True) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise PayloadError(field, "missing or blank.")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(field, "must be a string.")
    text = str(value).strip()
    if len(text) > max_length:
        raise PayloadError(field, f"longer than {max_length} characters.")
    return text


def parse_pagerduty_change(event, mapping: dict) -> dict:
    """Read a PagerDuty change event (`/v2/change/enqueue`); raise PagerDutyError."""
    if not isinstance(event, dict) or not isinstance(event.get("payload"), dict):
        raise PagerDutyError(["'payload' is missing or not an object."])
    payload = event["payload"]
    try:
        details = payload.get("custom_details")
        if details is not None and not isinstance(details, dict):
            raise PayloadError("payload.custom_details", "must be an object.")
        path = mapping["change_service"]
        return {
            "summary": _text(payload.get("summary"), "payload.summary", max_length=1024),
            "service": _text(lookup(event, path), path, max_length=100).lower(),
            "source": _text(
                payload.get("source"), "payload.source", max_length=255, required=False
            ),
            "at": _time(payload.get("timestamp"), "payload.timestamp"),
            "links": _links(event.get("links"), "links"),
            "details": details or {},
        }
    except PayloadError as error:
        raise PagerDutyError([f"'{error.field}' {error.message}"]) from None


def parse_change(body) -> dict:
    """Read a generic change (`POST /api/v1/changes`); raise PayloadError naming the field."""
    if not isinstance(body, dict):
        raise PayloadError("body", "must be a JSON object.")
    details = body.get("details")
    if details is not None and not isinstance(details, dict):
        raise PayloadError("details", "must be an object.")
    return {
        "service": _text(body.get("service"), "service", max_length=100).lower(),
        "summary": _text(body.get("summary"), "summary", max_length=1024),
        "source": _text(body.get("source"), "source", max_length=255, required=False),
        "at": _time(body.get("at"), "at"),
        "links": _links(body.get("links"), "links"),
        "details": details or {},
    }


def change_record(*, integration, change: dict) -> ChangeEvent:
    """Keep one change; `at` (when it happened) defaults to now."""
    now = timezone.now()
    return ChangeEvent.objects.create(
        integration=integration, received_at=now, **{**change, "at": change["at"] or now}
    )


def incident_services(incident) -> list[str]:
    """Return the slugs of the services the incident's action covers."""
    return sorted(set(incident.action.rules.values_list("service__slug", flat=True)))


def changes_near(incident):
    """Changes to the incident's services from an hour before it opened until it ended."""
    end = incident.resolved_at or timezone.now()
    return ChangeEvent.objects.filter(
        service__in=incident_services(incident),
        at__gte=incident.opened_at - BEFORE_OPENING,
        at__lte=end,
    ).order_by("at")


@dataclass(frozen=True)
class ChangeLine:
    """A change shown among the timeline's events (same attributes the template reads)."""

    at: datetime
    actor: str
    detail: str
    kind: str = "change"

    def get_kind_display(self):
        return pgettext_lazy("a deploy or configuration change", "Change")


def timeline_with_changes(events, changes) -> list:
    """Merge the incident's events with the changes near it, in time order."""
    lines = [
        ChangeLine(at=c.at, actor=c.source or "change", detail=f"{c.service}: {c.summary}")
        for c in changes
    ]
    return sorted([*events, *lines], key=lambda line: line.at)


def changes_context(incident) -> dict:
    """Template context of an incident page: its changes, and the timeline with them."""
    near = list(changes_near(incident))
    return {"changes": near, "timeline": timeline_with_changes(incident.events.all(), near)}
