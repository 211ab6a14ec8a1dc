"""What an incident pages, to whom and in which words: tier pages, notices, triage."""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from incidents.history.texts import detail
from incidents.history.timeline import event_add, local_time
from incidents.models import TimelineEvent
from incidents.outreach.links import acknowledge_url
from notifications.deliveries import channel_deliveries, deliveries_queue
from notifications.models import Channel, Delivery, Team

logger = logging.getLogger("cxhub.incidents")
# A digest page lists at most this many pairs (the admin lists them all).
TRIAGE_LINES = 20
Kind = TimelineEvent.Kind


def incident_link(incident) -> str:
    """Return the incident's support page: its story, chart and acknowledge button."""
    path = reverse("support:incident", args=[incident.pk])
    return f"{settings.CXHUB_BASE_URL}{path}"


def page_tier(incident, tier: dict, *, now, repeat: int = 0) -> int:
    """Queue one page per enabled channel of the tier's team; return how many.

    Repeat number `repeat` (1, 2 ...) of a tier is a page of its own, with its own key.
    """
    channels = list(Channel.objects.filter(team_id=tier["team_id"], enabled=True))
    action = incident.action
    again = f", repeat {repeat}" if repeat else ""
    title = f"[cxhub] {action.code} {action.name}: tier {tier['level']} ({tier['name']}){again}"
    body = (
        f"{action.name} is failing: {incident.occurrences} occurrence(s) since "
        f"{local_time(incident.opened_at)}. "
        f"Tier {tier['level']} ({tier['name']}) is paged. Incident: {incident_link(incident)} "
        f"Acknowledge: {acknowledge_url(incident)}"
    )
    suffix = f":r{repeat}" if repeat else ""
    deliveries_queue(
        channel_deliveries(
            channels,
            key=f"page:{incident.pk}:{tier['level']}",
            suffix=suffix,
            now=now,
            incident=incident,
            purpose=Delivery.Purpose.PAGE,
            tier_level=tier["level"],
            team_id=tier["team_id"],
            title=title,
            message=body,
        ),
        now=now,
    )
    return len(channels)


def pages_cancel(incident, *, reason: str) -> int:
    """Cancel the incident's pages not yet sent (a page being sent finishes)."""
    return Delivery.objects.filter(
        incident=incident, purpose=Delivery.Purpose.PAGE, status=Delivery.Status.PENDING
    ).update(status=Delivery.Status.CANCELLED, last_error=reason)


def teams_tell(incident, event: TimelineEvent, *, now) -> int:
    """Tell every channel that paged this incident about an acknowledgement or resolution.

    A page still waiting (just queued, or between retries) is moot now: cancelled
    first, so only channels that actually got or are getting a page are told, once
    per event and channel.
    """
    verb = {Kind.ACKNOWLEDGED: "acknowledged", Kind.RESOLVED: "resolved"}[event.kind]
    pages_cancel(incident, reason=f"The incident was {verb} before it was sent.")
    action = incident.action
    note = f" Note: {event.detail}" if event.detail else ""
    paged = (
        Delivery.objects.filter(
            incident=incident, purpose=Delivery.Purpose.PAGE, channel__isnull=False
        )
        .exclude(status=Delivery.Status.CANCELLED)
        .order_by()
        .values_list("channel_id", "team_id")
        .distinct()
    )
    notices = [
        Delivery(
            key=f"notice:{incident.pk}:{event.kind}:{event.pk}:{channel_id}",
            incident=incident,
            purpose=Delivery.Purpose.NOTICE,
            team_id=team_id,
            channel_id=channel_id,
            title=f"[cxhub] {action.code} {action.name}: {verb} by {event.actor}",
            message=(
                f"{action.name} was {verb} by {event.actor} at {local_time(event.at)}, after "
                f"{incident.occurrences} occurrence(s).{note} "
                f"Incident: {incident_link(incident)}"
            ),
            due_at=now,
        )
        for channel_id, team_id in sorted(paged)
    ]
    deliveries_queue(notices, now=now)
    if notices:
        event_add(
            incident,
            Kind.TEAMS_TOLD,
            detail(f"teams_told_{verb}", count=len(notices), actor=event.actor),
            at=now,
        )
    return len(notices)


def triage_create_url(service: str, code: str) -> str:
    """Return the admin's "add action" page prefilled for an uncovered service/code."""
    query = urlencode({"service": service, "code": code})
    return f"{settings.CXHUB_BASE_URL}{reverse('admin:actions_action_add')}?{query}"


def page_triage(alerts, *, number: int, now) -> int:
    """Page the triage team once about service/code pairs no action covers; return channels.

    `number` is the digest's sequence number: each digest is a page of its own.
    """
    team = Team.objects.filter(slug=settings.CXHUB_TRIAGE_TEAM).first()
    if team is None:
        logger.warning(
            "No triage team %r to tell about %d pair(s)", settings.CXHUB_TRIAGE_TEAM, len(alerts)
        )
        return 0
    if len(alerts) == 1:
        title = f"[cxhub] No action covers {alerts[0].service}/{alerts[0].code}"
    else:
        title = f"[cxhub] No action covers {len(alerts)} service/code pairs"
    lines = [
        f"{a.occurrences} trigger(s) of {a.service}/{a.code} since {local_time(a.first_seen_at)} "
        f"match no action. Create one: {triage_create_url(a.service, a.code)}"
        for a in alerts[:TRIAGE_LINES]
    ]
    if len(alerts) > TRIAGE_LINES:
        lines.append(f"... and {len(alerts) - TRIAGE_LINES} more: see Admin > Triage alerts.")
    channels = list(team.channels.filter(enabled=True))
    deliveries_queue(
        channel_deliveries(
            channels,
            key=f"triage:{team.slug}:{number}",
            now=now,
            purpose=Delivery.Purpose.TRIAGE,
            team=team,
            title=title,
            message="\n".join(lines),
        ),
        now=now,
    )
    return len(channels)
