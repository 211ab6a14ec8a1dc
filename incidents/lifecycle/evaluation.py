"""Evaluate an incident: timers and holds first, then what is due (push, tiers, repeats).

`incident_evaluate` runs on a locked, current incident wherever it changed (a
count, an acknowledgement, a silence, the sweep). The rules themselves are pure
functions in `escalation`; this module applies their answer with conditional
UPDATEs, so concurrent evaluations cannot act twice.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidents import selectors
from incidents.history.texts import detail
from incidents.history.timeline import event_add
from incidents.lifecycle.approvals import push_start
from incidents.lifecycle.escalation import deadlines, evaluate
from incidents.lifecycle.resolution import incident_resolve
from incidents.models import Incident, TimelineEvent
from incidents.models.policy import Policy
from incidents.outreach.paging import actor_name, page_tier

QUIET_PERIOD_ACTOR = "cxhub (quiet period)"
Kind = TimelineEvent.Kind


@dataclass(frozen=True)
class Hold:
    """What a silence or a maintenance window holds back now, and until when."""

    paging: bool
    push: bool
    until: datetime | None


def _deadlines(incident: Incident, *, paging_stopped: bool):
    acknowledged = incident.status == Incident.Status.ACKNOWLEDGED
    return deadlines(
        Policy.from_json(incident.policy),
        last_occurrence_at=incident.last_occurrence_at,
        acknowledged_at=incident.acknowledged_at if acknowledged else None,
        last_paged_at=incident.last_paged_at,
        escalation_level=incident.escalation_level,
        paging_stopped=paging_stopped,
    )


def settle(incident: Incident, *, now) -> Hold | None:
    """Apply the timers and holds that ran out or began, for a locked, current incident.

    Return None when the quiet period resolved the incident, else what is held
    back now. Every change is a conditional UPDATE on the state it saw, so a
    concurrent evaluation cannot record it twice.
    """
    mine = Incident.objects.filter(pk=incident.pk)
    timers = _deadlines(incident, paging_stopped=True)
    if timers.quiet and now >= timers.quiet:
        minutes = Policy.from_json(incident.policy).quiet_minutes
        incident_resolve(
            incident_id=incident.pk,
            by=QUIET_PERIOD_ACTOR,
            note=detail("quiet_resolved", minutes=minutes, since=incident.last_occurrence_at),
            now=now,
        )
        return None

    if timers.ack_timeout and now >= timers.ack_timeout:
        expired = mine.filter(
            status=Incident.Status.ACKNOWLEDGED, acknowledged_at=incident.acknowledged_at
        ).update(status=Incident.Status.OPEN, acknowledged_at=None, acknowledged_by="")
        if expired:
            event_add(
                incident,
                Kind.ACK_EXPIRED,
                detail(
                    "ack_expired",
                    by=actor_name(incident.acknowledged_by),
                    at=incident.acknowledged_at,
                    minutes=Policy.from_json(incident.policy).ack_timeout_minutes,
                    level=incident.escalation_level,
                ),
                at=now,
            )
        incident.status = Incident.Status.OPEN
        incident.acknowledged_at, incident.acknowledged_by = None, ""

    if incident.silenced_until and now >= incident.silenced_until:
        if mine.filter(silenced_until=incident.silenced_until).update(
            silenced_until=None, silenced_by=""
        ):
            event_add(
                incident,
                Kind.SILENCE_ENDED,
                detail("silence_ran_out", by=incident.silenced_by),
                at=now,
            )
        incident.silenced_until, incident.silenced_by = None, ""

    window = selectors.maintenance_covering(incident.action_id, now=now)
    if window is not None:
        if incident.maintenance_until != window.ends_at or incident.maintenance_id != window.pk:
            mine.update(maintenance=window, maintenance_until=window.ends_at)
            if incident.maintenance_until is None:
                event_add(
                    incident,
                    Kind.MAINTENANCE,
                    detail("maintenance", reason=window.reason, until=window.ends_at),
                    at=now,
                )
            incident.maintenance, incident.maintenance_until = window, window.ends_at
    elif incident.maintenance_until is not None:
        # Time tiers count from the end of the window: "normal escalation starts from
        # the current counts", not at once for every minute the window held.
        if mine.filter(maintenance_until=incident.maintenance_until).update(
            maintenance_until=None, escalation_from=now
        ):
            event_add(
                incident,
                Kind.MAINTENANCE_ENDED,
                detail("maintenance_ended", occurrences=incident.occurrences),
                at=now,
            )
        incident.maintenance_until, incident.escalation_from = None, now

    silenced = incident.silenced_until is not None
    held = incident.maintenance_until is not None
    ends = [t for t in (incident.silenced_until, incident.maintenance_until) if t]
    return Hold(paging=silenced or held, push=held, until=min(ends, default=None))


def paging_stopped(incident: Incident, hold: Hold) -> bool:
    return incident.status != Incident.Status.OPEN or hold.paging


def repeat_if_due(incident: Incident, *, hold: Hold, now) -> bool:
    """Page the highest paged tier again if its repeat interval ran out; return whether."""
    timers = _deadlines(incident, paging_stopped=paging_stopped(incident, hold))
    if not timers.repeat or now < timers.repeat:
        return False
    tier = Policy.from_json(incident.policy).tier(incident.escalation_level)
    if tier is None:
        return False
    number = incident.repeats + 1
    # The claim: one repeat number per incident, whoever evaluates concurrently.
    if not Incident.objects.filter(pk=incident.pk, repeats=incident.repeats).update(
        repeats=number, last_paged_at=now
    ):
        return False
    incident.repeats, incident.last_paged_at = number, now
    paged = page_tier(incident, tier, now=now, repeat=number)
    _paged_note(incident, tier, paged, now=now, repeat=number)
    return True


def _paged_note(incident: Incident, tier, paged, *, now, repeat: int = 0) -> None:
    """Note on the timeline the channels a tier (or its repeat `repeat`) paged.

    People paged have their own line (who, by what), written as they are paged; a
    page that reached only people adds nothing here.
    """
    if paged.people and not paged.channels:
        return
    kind, key = (Kind.REPEAT_PAGED, "repeat_paged") if repeat else (Kind.TIER_PAGED, "tier_paged")
    event_add(
        incident,
        kind,
        detail(
            key,
            level=tier.level,
            name=tier.name,
            **({"repeat": repeat} if repeat else {}),
            channels=paged.channels,
            occurrences=incident.occurrences,
        ),
        at=now,
    )


def next_check(incident: Incident, *, tiers_next: datetime | None, hold: Hold, now):
    """Return when the incident must next be looked at, whatever falls due first."""
    timers = _deadlines(incident, paging_stopped=paging_stopped(incident, hold))
    times = [t for t in (tiers_next, timers.next_after(now), hold.until) if t]
    return min(times, default=None)


def incident_evaluate(incident: Incident, *, now) -> None:
    """Queue what is due for a locked, current incident and note when to look again.

    Timers and holds come first (`settle`): the quiet period may resolve
    it, an acknowledgement may time out, a silence or maintenance may hold pages.
    """
    hold = settle(incident, now=now)
    if hold is None:
        return
    due = evaluate(
        Policy.from_json(incident.policy),
        occurrences=incident.occurrences,
        opened_at=incident.escalation_from or incident.opened_at,
        now=now,
        escalation_level=incident.escalation_level,
        pushed=incident.push_queued_at is not None,
        paging_stopped=paging_stopped(incident, hold),
        push_held=hold.push,
    )
    mine = Incident.objects.filter(pk=incident.pk)
    if due.push and mine.filter(push_queued_at__isnull=True).update(push_queued_at=now):
        incident.push_queued_at = now
        push_start(incident, now=now)  # fans out, or holds a mass push for approval
    if due.tiers:
        top = due.tiers[-1].level
        if mine.filter(escalation_level__lt=top).update(escalation_level=top, last_paged_at=now):
            incident.escalation_level, incident.last_paged_at = top, now
            for tier in due.tiers:
                _paged_note(incident, tier, page_tier(incident, tier, now=now), now=now)
    repeat_if_due(incident, hold=hold, now=now)
    next_check_at = next_check(incident, tiers_next=due.next_check_at, hold=hold, now=now)
    if incident.next_check_at != next_check_at:
        mine.update(next_check_at=next_check_at)
        incident.next_check_at = next_check_at


def incident_check(incident_id, *, now=None) -> None:
    """Re-evaluate one unresolved incident for time-based tiers."""
    now = now or timezone.now()
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update(skip_locked=True)
            .select_related("action")
            .exclude(status=Incident.Status.RESOLVED)
            .filter(pk=incident_id)
            .first()
        )
        if incident is not None:
            incident_evaluate(incident, now=now)
