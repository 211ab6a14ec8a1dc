"""Writes of the responder lifecycle around the core loop.

Timers (quiet period, acknowledgement timeout, repeat pages), holds (silence,
maintenance), reopening within the flap window, telling paged teams, and triage
re-processing. `services.incident_evaluate` calls `settle`, `repeat_if_due` and
`next_check`; the API, the admin and the acknowledge link call the rest.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from actions.models import Action
from actions.selectors import actions_matching
from incidents import selectors, services
from incidents.escalation import deadlines, flap_reopens
from incidents.models import Incident, MaintenanceWindow, TimelineEvent, Trigger
from notifications import services as notify
from notifications.models import Delivery

QUIET_PERIOD_ACTOR = "cxhub (quiet period)"
Kind = TimelineEvent.Kind


@dataclass(frozen=True)
class Hold:
    """What a silence or a maintenance window holds back now, and until when."""

    paging: bool
    push: bool
    until: datetime | None


def _local(at: datetime) -> str:
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M %Z}"


def _deadlines(incident: Incident, *, paging_stopped: bool):
    acknowledged = incident.status == Incident.Status.ACKNOWLEDGED
    return deadlines(
        incident.policy,
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
        minutes = incident.policy["quiet_minutes"]
        services.incident_resolve(
            incident_id=incident.pk,
            by=QUIET_PERIOD_ACTOR,
            note=f"No occurrence for {minutes} minute(s), "
            f"since {_local(incident.last_occurrence_at)}.",
            now=now,
        )
        return None

    if timers.ack_timeout and now >= timers.ack_timeout:
        expired = mine.filter(
            status=Incident.Status.ACKNOWLEDGED, acknowledged_at=incident.acknowledged_at
        ).update(status=Incident.Status.OPEN, acknowledged_at=None, acknowledged_by="")
        if expired:
            services.event_add(
                incident,
                Kind.ACK_EXPIRED,
                f"Acknowledged by {incident.acknowledged_by} at {_local(incident.acknowledged_at)} "
                f"and not resolved within {incident.policy['ack_timeout_minutes']} minute(s): "
                f"open again, escalation resumes after tier {incident.escalation_level}.",
                at=now,
            )
        incident.status = Incident.Status.OPEN
        incident.acknowledged_at, incident.acknowledged_by = None, ""

    if incident.silenced_until and now >= incident.silenced_until:
        if mine.filter(silenced_until=incident.silenced_until).update(
            silenced_until=None, silenced_by=""
        ):
            services.event_add(
                incident, Kind.SILENCE_ENDED, f"Silence by {incident.silenced_by} ran out.", at=now
            )
        incident.silenced_until, incident.silenced_by = None, ""

    window = selectors.maintenance_covering(incident.action_id, now=now)
    if window is not None:
        if incident.maintenance_until != window.ends_at or incident.maintenance_id != window.pk:
            mine.update(maintenance=window, maintenance_until=window.ends_at)
            if incident.maintenance_until is None:
                services.event_add(
                    incident,
                    Kind.MAINTENANCE,
                    f"Maintenance window “{window.reason}” until {_local(window.ends_at)}: "
                    "occurrences count, no push and no page go out.",
                    at=now,
                )
            incident.maintenance, incident.maintenance_until = window, window.ends_at
    elif incident.maintenance_until is not None:
        # Time tiers count from the end of the window: "normal escalation starts from
        # the current counts", not at once for every minute the window held.
        if mine.filter(maintenance_until=incident.maintenance_until).update(
            maintenance_until=None, escalation_from=now
        ):
            services.event_add(
                incident,
                Kind.MAINTENANCE_ENDED,
                f"Maintenance over with the failure still going ({incident.occurrences} "
                "occurrences): normal escalation starts now.",
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
    tier = next(
        (t for t in incident.policy.get("tiers", []) if t["level"] == incident.escalation_level),
        None,
    )
    if tier is None:
        return False
    number = incident.repeats + 1
    # The claim: one repeat number per incident, whoever evaluates concurrently.
    if not Incident.objects.filter(pk=incident.pk, repeats=incident.repeats).update(
        repeats=number, last_paged_at=now
    ):
        return False
    incident.repeats, incident.last_paged_at = number, now
    channels = notify.page_tier(incident, tier, now=now, repeat=number)
    services.event_add(
        incident,
        Kind.REPEAT_PAGED,
        f"Tier {tier['level']} ({tier['name']}) paged again (repeat {number}) through "
        f"{channels} channel(s): still not acknowledged at {incident.occurrences} occurrences",
        at=now,
    )
    return True


def next_check(incident: Incident, *, tiers_next: datetime | None, hold: Hold, now):
    """Return when the incident must next be looked at, whatever falls due first."""
    timers = _deadlines(incident, paging_stopped=paging_stopped(incident, hold))
    times = [t for t in (tiers_next, timers.next_after(now), hold.until) if t]
    return min(times, default=None)


def teams_tell(incident: Incident, event: TimelineEvent, *, now) -> int:
    """Tell every channel that paged this incident about an acknowledgement or resolution.

    Unsent pages are cancelled first.
    """
    verb = {Kind.ACKNOWLEDGED: "acknowledged", Kind.RESOLVED: "resolved"}[event.kind]
    # A page still waiting (just queued, or between retries) is moot now: cancelled
    # first, so only channels that actually got or are getting a page are told.
    notify.pages_cancel(incident, reason=f"The incident was {verb} before it was sent.")
    action = incident.action
    note = f" Note: {event.detail}" if event.detail else ""
    count = notify.tell_paged_teams(
        incident,
        ref=f"{event.kind}:{event.pk}",
        title=f"[cxhub] {action.code} {action.name}: {verb} by {event.actor}",
        message=(
            f"{action.name} was {verb} by {event.actor} at {_local(event.at)}, after "
            f"{incident.occurrences} occurrence(s).{note} "
            f"Incident: {notify.incident_link(incident)}"
        ),
        now=now,
    )
    if count:
        services.event_add(
            incident,
            Kind.TEAMS_TOLD,
            f"{count} paged channel(s) told it was {verb} by {event.actor}",
            at=now,
        )
    return count


def incident_reopen_flapping(*, action_id, at, count=1) -> Incident | None:
    """Reopen the action's last incident if `at` falls in its flap window; count it.

    Called when the action has no unresolved incident. If another incident opened
    meanwhile, the partial unique constraint refuses the reopening and the caller
    counts into that one instead.
    """
    last = (
        Incident.objects.filter(action_id=action_id, status=Incident.Status.RESOLVED)
        .order_by("-resolved_at")
        .first()
    )
    if last is None or not flap_reopens(last.policy, resolved_at=last.resolved_at, at=at):
        return None
    try:
        with transaction.atomic():
            reopened = Incident.objects.filter(
                pk=last.pk, status=Incident.Status.RESOLVED, resolved_at=last.resolved_at
            ).update(
                status=Incident.Status.OPEN,
                resolved_at=None,
                resolved_by="",
                acknowledged_at=None,
                acknowledged_by="",
                occurrences=F("occurrences") + count,
                last_occurrence_at=at,
                next_check_at=None,
            )
    except IntegrityError:
        return None
    if not reopened:
        return None
    incident = Incident.objects.select_related("action").get(pk=last.pk)
    minutes = max(0, int((at - last.resolved_at).total_seconds() // 60))
    services.event_add(
        incident,
        Kind.REOPENED,
        f"A trigger came {minutes} minute(s) after it was resolved by {last.resolved_by}, "
        f"within the {last.policy['flap_minutes']}-minute flap window: the same incident "
        f"reopens at tier {incident.escalation_level}.",
        at=max(at, last.resolved_at),
    )
    cancelled = Delivery.objects.filter(
        incident=incident, purpose=Delivery.Purpose.ALL_CLEAR, status=Delivery.Status.PENDING
    ).update(status=Delivery.Status.CANCELLED, last_error="The incident reopened.")
    if cancelled:
        services.event_add(
            incident,
            Kind.REOPENED,
            f"{cancelled} unsent all-clear batch(es) cancelled",
            at=max(at, last.resolved_at),
        )
    return incident


def incident_silence(*, incident_id, minutes: int, by: str, note: str = "", now=None) -> bool:
    """Hold the pages of an unresolved incident for `minutes` (0 ends a silence).

    Occurrences still count and the customer push still goes out. Return whether
    anything changed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update()
            .select_related("action")
            .exclude(status=Incident.Status.RESOLVED)
            .filter(pk=incident_id)
            .first()
        )
        if incident is None:
            return False
        mine = Incident.objects.filter(pk=incident.pk)
        suffix = f" Note: {note}" if note else ""
        if minutes:
            until = now + timedelta(minutes=minutes)
            mine.update(silenced_until=until, silenced_by=by)
            incident.silenced_until, incident.silenced_by = until, by
            services.event_add(
                incident,
                Kind.SILENCED,
                f"No pages for {minutes} minute(s), until {_local(until)}; occurrences still "
                f"count.{suffix}",
                actor=by,
                at=now,
            )
        else:
            if incident.silenced_until is None:
                return False
            mine.update(silenced_until=None, silenced_by="")
            incident.silenced_until, incident.silenced_by = None, ""
            services.event_add(
                incident, Kind.SILENCE_ENDED, f"Silence ended by hand.{suffix}", actor=by, at=now
            )
        services.incident_evaluate(incident, now=now)
    return True


def _covered_incidents(window: MaintenanceWindow):
    if window.action_id:
        covered = Q(action_id=window.action_id)
    else:
        covered = Q(action__in=Action.objects.filter(rules__service_id=window.service_id))
    return Incident.objects.exclude(status=Incident.Status.RESOLVED).filter(covered)


def maintenance_saved(window: MaintenanceWindow, *, now=None) -> int:
    """Have the sweep look now at incidents a new or changed window covers or held.

    Holding needs no scheduling (evaluation asks for the active window), but a
    window that already runs marks its incidents at once, and a window shortened
    releases them at once rather than at its old end.
    """
    now = now or timezone.now()
    affected = Incident.objects.exclude(status=Incident.Status.RESOLVED).filter(
        maintenance=window, maintenance_until__isnull=False
    )
    if window.starts_at <= now < window.ends_at:
        affected = affected | _covered_incidents(window)
    return affected.update(next_check_at=now)


def maintenance_end(*, window_id, by: str, now=None) -> bool:
    """End a running window now, or cancel one not started; return whether it changed."""
    now = now or timezone.now()
    with transaction.atomic():
        window = MaintenanceWindow.objects.select_for_update().filter(pk=window_id).first()
        if window is None or window.ends_at <= now:
            return False
        if window.starts_at > now:
            window.delete()
            return True
        MaintenanceWindow.objects.filter(pk=window.pk).update(ends_at=now, ended_early_by=by)
        window.ends_at, window.ended_early_by = now, by
        maintenance_saved(window, now=now)
    return True


def triage_reprocess(*, service: str, code: str, now=None) -> dict:
    """Count recent unmatched triggers of a service/code into the actions covering it now.

    Each trigger is claimed (`reprocessed_at`) before it counts, so a second click
    or a concurrent one finds nothing left. Like ingest, a report counts as one
    occurrence per action. Nothing is claimed while no action covers the code.
    """
    now = now or timezone.now()
    action_ids = sorted(actions_matching([(service, code)]).get((service, code), set()), key=str)
    if not action_ids:
        return {"triggers": 0, "occurrences": 0, "actions": 0}
    since = now - settings.CXHUB_TRIAGE_REPROCESS_WINDOW
    occurrences = 0
    with transaction.atomic():
        triggers = list(
            selectors.unmatched_triggers(service=service, code=code, since=since)
            .select_for_update(skip_locked=True)
            .order_by("received_at", "id")
        )
        claimed = Trigger.objects.filter(
            id__in=[t.id for t in triggers], reprocessed_at__isnull=True
        ).update(reprocessed_at=now)
        if claimed != len(triggers):
            # Only possible without row locks (SQLite serialises writers instead).
            raise RuntimeError("Triggers were re-processed concurrently; try again.")
        by_report: dict = {}
        for trigger in triggers:
            by_report.setdefault(trigger.report_id, []).append(trigger)
        for report_triggers in by_report.values():
            at = report_triggers[0].received_at
            for action_id in action_ids:
                counted = Trigger.objects.filter(
                    report_id=report_triggers[0].report_id, incident__action_id=action_id
                ).first()
                if counted is not None:
                    incident = counted.incident
                else:
                    incident = services.incident_count_occurrence(action_id=action_id, at=at)
                    occurrences += 1
                Trigger.objects.filter(
                    id__in=[t.id for t in report_triggers], incident=None
                ).update(incident=incident)
                if counted is None:
                    services.incident_evaluate(incident, now=now)
    return {"triggers": len(triggers), "occurrences": occurrences, "actions": len(action_ids)}
