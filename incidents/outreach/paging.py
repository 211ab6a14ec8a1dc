"""What an incident pages, to whom and in which words: tier pages, notices, triage."""

import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop

from incidents.history.texts import detail
from incidents.history.timeline import event_add, local_time
from incidents.models import TimelineEvent
from incidents.models.policy import Tier
from incidents.outreach.links import acknowledge_url
from notifications.deliveries import channel_deliveries, deliveries_queue, person_deliveries
from notifications.models import Channel, Delivery, Team
from oncall.models import ContactMethod, Schedule
from oncall.selectors import contact_methods_of, oncall_at, person_name

logger = logging.getLogger("cxhub.incidents")
# A digest page lists at most this many pairs (the admin lists them all).
TRIAGE_LINES = 20
Kind = TimelineEvent.Kind
# Why a page step still waiting was cancelled: stored in English (the msgid), shown in
# the reader's language by the support page (`page_cancel_reason`).
PAGE_CANCELLED = {
    Kind.ACKNOWLEDGED: gettext_noop("The incident was acknowledged before it was sent."),
    Kind.RESOLVED: gettext_noop("The incident was resolved before it was sent."),
}


@dataclass(frozen=True)
class Paged:
    """What a tier's page reached: how many team channels, and which people on call."""

    channels: int = 0
    people: tuple[str, ...] = ()


def incident_link(incident) -> str:
    """Return the incident's support page: its story, chart and acknowledge button."""
    path = reverse("support:incident", args=[incident.pk])
    return f"{settings.CXHUB_BASE_URL}{path}"


def page_tier(incident, tier: Tier, *, now, repeat: int = 0, resolved_at=None) -> Paged:
    """Queue a tier's pages: its team's channels, its schedule's on-call people, or both.

    Return how many channels and which people were paged. A person on call is
    paged by each of their contact methods in order, each step due after its
    delay, until someone acknowledges (acknowledging cancels the steps still
    pending). When nobody on call can be reached the team's channels are paged
    instead and the gap is on the timeline. Repeat number `repeat` (1, 2 ...) of a
    tier is a page of its own, with its own keys; so is the page saying the
    incident resolved at `resolved_at` reopened, once per reopen generation.
    """
    action = incident.action
    again = f", repeat {repeat}" if repeat else ""
    if resolved_at is not None:
        again = f", reopened{f' ({incident.reopens})' if incident.reopens > 1 else ''}"
    title = f"[cxhub] {action.code} {action.name}: tier {tier.level} ({tier.name}){again}"
    key = f"page:{incident.pk}:{tier.level}"
    suffix = f":r{repeat}" if repeat else ""
    if resolved_at is not None:
        suffix += f":o{incident.reopens}"
    target = tier.target or "team"
    people = ()
    if target != "team" and tier.schedule_id:
        people = _page_oncall(
            incident,
            tier,
            title=title,
            key=key,
            suffix=suffix,
            now=now,
            repeat=repeat,
            resolved_at=resolved_at,
        )
    if target == "oncall" and people:
        return Paged(people=people)
    channels = list(Channel.objects.filter(team_id=tier.team_id, enabled=True))
    deliveries_queue(
        channel_deliveries(
            channels,
            key=key,
            suffix=suffix,
            now=now,
            incident=incident,
            purpose=Delivery.Purpose.PAGE,
            tier_level=tier.level,
            team_id=tier.team_id,
            title=title,
            message=_page_body(incident, tier, acknowledge_url(incident), resolved_at),
        ),
        now=now,
    )
    return Paged(channels=len(channels), people=people)


def _page_body(incident, tier: Tier, acknowledge: str, resolved_at=None) -> str:
    action = incident.action
    state = (
        f"{action.name} is failing again: the incident resolved at "
        f"{local_time(resolved_at)} reopened; "
        if resolved_at is not None
        else f"{action.name} is failing: "
    )
    return (
        f"{state}{incident.occurrences} occurrence(s) since "
        f"{local_time(incident.opened_at)}. "
        f"Tier {tier.level} ({tier.name}) is paged. Incident: {incident_link(incident)} "
        f"Acknowledge: {acknowledge}"
    )


def _page_oncall(
    incident,
    tier: Tier,
    *,
    title: str,
    key: str,
    suffix: str,
    now,
    repeat: int = 0,
    resolved_at=None,
) -> tuple[str, ...]:
    """Page the people on call in the tier's schedule, step by step; return their names.

    Each person's page carries an acknowledge link naming them; the timeline says
    who is paged and by what, in which order, and which repeat it is. Nobody on
    call, or nobody with an enabled contact method, is a gap: no one, noted on the
    timeline.
    """
    schedule = Schedule.objects.filter(pk=tier.schedule_id).first()
    people = oncall_at(schedule, now) if schedule is not None else []
    methods = contact_methods_of(people)
    schedule_name = schedule.name if schedule is not None else "?"
    if not methods:
        event_add(
            incident,
            Kind.ONCALL_GAP,
            detail(
                "oncall_gap",
                level=tier.level,
                name=tier.name,
                schedule=schedule_name,
                people=", ".join(person_name(p) for p in people) or "nobody",
            ),
            at=now,
        )
        return ()
    steps = []
    for person in people:
        mine = [m for m in methods if m.user_id == person.pk]
        steps += person_deliveries(
            mine,
            key=key,
            suffix=suffix,
            now=now,
            incident=incident,
            purpose=Delivery.Purpose.PAGE,
            tier_level=tier.level,
            team_id=tier.team_id,
            title=title,
            message=_page_body(incident, tier, acknowledge_url(incident, person), resolved_at),
        )
    deliveries_queue(steps, now=now)
    paged = [p for p in people if any(m.user_id == p.pk for m in methods)]
    # The order of the steps, said once for everyone paged: "SMS now, E-mail after 5 min".
    order = sorted({(m.delay_minutes, m.get_kind_display()) for m in methods})
    event_add(
        incident,
        Kind.TIER_PAGED,
        detail(
            "oncall_repaging" if repeat else "oncall_paging",
            level=tier.level,
            name=tier.name,
            occurrences=incident.occurrences,
            schedule=schedule_name,
            people=", ".join(person_name(p) for p in paged),
            count=len(paged),
            **({"repeat": repeat} if repeat else {}),
            steps=[
                detail("step_after", method=label, minutes=delay)
                if delay
                else detail("step_now", method=label)
                for delay, label in order
            ],
        ),
        at=now,
    )
    return tuple(person_name(p) for p in paged)


def pages_cancel(incident, *, reason: str) -> int:
    """Cancel the incident's pages not yet sent (a page being sent finishes)."""
    return Delivery.objects.filter(
        incident=incident, purpose=Delivery.Purpose.PAGE, status=Delivery.Status.PENDING
    ).update(status=Delivery.Status.CANCELLED, last_error=reason)


def page_cancel_reason(text: str) -> str:
    """Return a page's stored error in the reader's language when it is a known reason."""
    return gettext(text) if text in PAGE_CANCELLED.values() else text


def teams_tell(incident, event: TimelineEvent, *, now) -> int:
    """Tell every channel that paged this incident about an acknowledgement or resolution.

    A page still waiting (just queued, or between retries) is moot now: cancelled
    first, so only channels that actually got or are getting a page are told, once
    per event and channel.
    """
    verb = {Kind.ACKNOWLEDGED: "acknowledged", Kind.RESOLVED: "resolved"}[event.kind]
    pages_cancel(incident, reason=PAGE_CANCELLED[event.kind])
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
    told = (
        Delivery.objects.filter(
            incident=incident,
            purpose=Delivery.Purpose.PAGE,
            person__isnull=False,
            contact_method__isnull=False,
            status=Delivery.Status.SENT,
        )
        .order_by("person_id", "sent_at")
        .values_list("person_id", "contact_method_id", "team_id")
    )
    # Each person paged is told once, by the first of their methods that reached them.
    people = {}
    for person_id, method_id, team_id in told:
        people.setdefault(person_id, (method_id, team_id))
    notices = [
        Delivery(
            key=f"notice:{incident.pk}:{event.kind}:{event.pk}:p{person_id}",
            incident=incident,
            purpose=Delivery.Purpose.NOTICE,
            team_id=team_id,
            person_id=person_id,
            contact_method_id=method_id,
            title=f"[cxhub] {action.code} {action.name}: {verb} by {event.actor}",
            message=(
                f"{action.name} was {verb} by {event.actor} at {local_time(event.at)}.{note} "
                f"Incident: {incident_link(incident)}"
            ),
            due_at=now,
        )
        for person_id, (method_id, team_id) in sorted(people.items())
    ]
    notices += [
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
            detail(
                f"paged_told_{verb}",
                count=len(notices),
                actor=actor_name(event.actor),
                whom=_told(notices),
            ),
            at=now,
        )
    return len(notices)


def actor_name(actor: str) -> str:
    """Return the full name of the person who acted, by username; else the actor as stored."""
    user = get_user_model().objects.filter(username=actor).first() if actor else None
    return person_name(user) if user is not None else actor


def _told(notices) -> list:
    """Name who a notice goes to: each person by the method that reached them, each channel."""
    users = get_user_model().objects.in_bulk({n.person_id for n in notices if n.person_id})
    methods = ContactMethod.objects.in_bulk(
        {n.contact_method_id for n in notices if n.contact_method_id}
    )
    channels = Channel.objects.select_related("team").in_bulk(
        {n.channel_id for n in notices if n.channel_id}
    )
    whom = []
    for notice in notices:
        if notice.person_id:
            method = methods.get(notice.contact_method_id)
            user = users.get(notice.person_id)
            whom.append(
                detail(
                    "told_person",
                    person=person_name(user) if user else "?",
                    method=method.get_kind_display() if method else "?",
                )
            )
        else:
            channel = channels.get(notice.channel_id)
            whom.append(
                detail(
                    "told_channel",
                    team=str(channel.team) if channel else "?",
                    channel=channel.kind if channel else "?",
                )
            )
    return whom


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
