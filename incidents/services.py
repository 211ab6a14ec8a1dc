"""Writes of the incident lifecycle: ingest, count, evaluate, acknowledge, resolve."""

import logging
from collections import Counter, defaultdict

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from actions.models import Action
from actions.selectors import actions_matching
from cxhub import hotcache
from cxhub.enqueue import enqueue_on_commit
from incidents.escalation import evaluate, policy_of
from incidents.models import Incident, Integration, Report, TimelineEvent, TriageAlert, Trigger
from notifications import services as notify

logger = logging.getLogger("cxhub.incidents")


def event_add(incident, kind, detail="", *, actor="cxhub", at=None) -> TimelineEvent:
    return TimelineEvent.objects.create(
        incident=incident, kind=kind, detail=detail, actor=actor, at=at or timezone.now()
    )


def report_ingest(*, integration, triggers: list[dict], payload) -> tuple[Report, list[Trigger]]:
    """Record one request's triggers in one transaction and enqueue their processing.

    Each trigger dict has service, code and status. The returned triggers carry
    `matched`: whether an action covered them on arrival.
    """
    from incidents.tasks import process_report

    now = timezone.now()
    pairs = frozenset((t["service"], t["code"]) for t in triggers)
    # `matched` is informative (the worker matches again), so a cached answer will do.
    matches = hotcache.rule_matches.get(pairs, lambda: actions_matching(pairs))
    with transaction.atomic():
        report = Report.objects.create(integration=integration, received_at=now, payload=payload)
        rows = Trigger.objects.bulk_create(
            Trigger(
                report=report,
                service=t["service"],
                code=t["code"],
                status=t.get("status", Trigger.Status.FIRING),
                received_at=now,
                matched=bool(matches[t["service"], t["code"]]),
            )
            for t in triggers
        )
        Integration.objects.filter(pk=integration.pk).update(
            last_received_at=now, trigger_count=F("trigger_count") + len(rows)
        )
        enqueue_on_commit(process_report, str(report.id))
    return report, rows


def report_process(report_id) -> bool:
    """Count a report's triggers into incidents, once; return whether this call did it.

    The claim (a conditional UPDATE) and everything it leads to commit together, so
    a duplicate task finds the report processed and a crash leaves it unclaimed.
    """
    now = timezone.now()
    with transaction.atomic():
        claimed = Report.objects.filter(id=report_id, processed_at__isnull=True).update(
            processed_at=now
        )
        if not claimed:
            return False
        report = Report.objects.get(id=report_id)
        triggers = list(report.triggers.filter(status=Trigger.Status.FIRING))
        matches = actions_matching((t.service, t.code) for t in triggers)
        by_action = defaultdict(list)
        unmatched = Counter()
        for trigger in triggers:
            action_ids = matches[trigger.service, trigger.code]
            if not action_ids:
                unmatched[trigger.service, trigger.code] += 1
            for action_id in action_ids:
                by_action[action_id].append(trigger.id)
        # A fixed order keeps two reports touching the same actions from deadlocking.
        for action_id in sorted(by_action, key=str):
            incident = incident_count_occurrence(action_id=action_id, at=report.received_at)
            Trigger.objects.filter(id__in=by_action[action_id], incident=None).update(
                incident=incident
            )
            incident_evaluate(incident, now=now)
        for (service, code), count in sorted(unmatched.items()):
            triage_record(service=service, code=code, count=count, now=now)
    return True


def incident_count_occurrence(*, action_id, at) -> Incident:
    """Add one occurrence to the action's unresolved incident, opening one if needed.

    The F() update takes the incident's row lock until commit, so concurrent
    reports are counted one after the other; the partial unique constraint makes a
    second concurrent open fail, and that caller counts into the winner instead.
    """
    unresolved = Incident.objects.filter(action_id=action_id).exclude(
        status=Incident.Status.RESOLVED
    )
    if unresolved.update(occurrences=F("occurrences") + 1, last_occurrence_at=at):
        return unresolved.select_related("action").get()
    action = Action.objects.get(id=action_id)
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                action=action,
                occurrences=1,
                opened_at=at,
                last_occurrence_at=at,
                policy=policy_of(action),
            )
    except IntegrityError:
        return incident_count_occurrence(action_id=action_id, at=at)
    event_add(incident, TimelineEvent.Kind.OPENED, f"Opened by action {action}", at=at)
    return incident


def incident_evaluate(incident: Incident, *, now) -> None:
    """Queue what is due for a locked, current incident and note when to look again."""
    due = evaluate(
        incident.policy,
        occurrences=incident.occurrences,
        opened_at=incident.opened_at,
        now=now,
        escalation_level=incident.escalation_level,
        pushed=incident.push_queued_at is not None,
        paging_stopped=incident.status != Incident.Status.OPEN,
    )
    mine = Incident.objects.filter(pk=incident.pk)
    if due.push and mine.filter(push_queued_at__isnull=True).update(push_queued_at=now):
        incident.push_queued_at = now
        batches = notify.push_fan_out(incident, now=now)
        event_add(
            incident,
            TimelineEvent.Kind.PUSH_QUEUED,
            f"Outage push queued at {incident.occurrences} occurrences in {batches} batch(es)",
            at=now,
        )
    if due.tiers:
        top = due.tiers[-1]["level"]
        if mine.filter(escalation_level__lt=top).update(escalation_level=top):
            incident.escalation_level = top
            for tier in due.tiers:
                channels = notify.page_tier(incident, tier, now=now)
                event_add(
                    incident,
                    TimelineEvent.Kind.TIER_PAGED,
                    f"Tier {tier['level']} ({tier['name']}) paged through {channels} channel(s) "
                    f"at {incident.occurrences} occurrences",
                    at=now,
                )
    if incident.next_check_at != due.next_check_at:
        mine.update(next_check_at=due.next_check_at)
        incident.next_check_at = due.next_check_at


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


def incident_acknowledge(*, incident_id, by: str, now=None) -> bool:
    """Stop further tier pages for an open incident; return whether it changed."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = Incident.objects.filter(pk=incident_id, status=Incident.Status.OPEN).update(
            status=Incident.Status.ACKNOWLEDGED,
            acknowledged_at=now,
            acknowledged_by=by,
            next_check_at=None,
        )
        if changed:
            event_add(Incident(pk=incident_id), TimelineEvent.Kind.ACKNOWLEDGED, actor=by, at=now)
    return bool(changed)


def incident_resolve(*, incident_id, by: str, note: str = "", now=None) -> bool:
    """Resolve an incident: stop escalation, cancel unsent pushes, queue the all-clear."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = (
            Incident.objects.filter(pk=incident_id)
            .exclude(status=Incident.Status.RESOLVED)
            .update(
                status=Incident.Status.RESOLVED,
                resolved_at=now,
                resolved_by=by,
                next_check_at=None,
            )
        )
        if not changed:
            return False
        incident = Incident.objects.select_related("action").get(pk=incident_id)
        event_add(incident, TimelineEvent.Kind.RESOLVED, note, actor=by, at=now)
        cancelled, batches = notify.push_wind_down(incident, now=now)
        if cancelled or batches:
            event_add(
                incident,
                TimelineEvent.Kind.ALL_CLEAR_QUEUED,
                f"All-clear queued in {batches} batch(es) for the customers who got the push; "
                f"{cancelled} unsent push batch(es) cancelled",
                at=now,
            )
    return True


def triage_record(*, service: str, code: str, count: int, now) -> bool:
    """Count an uncovered service/code and page triage at most once an interval."""
    alert, _ = TriageAlert.objects.get_or_create(
        service=service, code=code, defaults={"first_seen_at": now, "last_seen_at": now}
    )
    TriageAlert.objects.filter(pk=alert.pk).update(
        occurrences=F("occurrences") + count, last_seen_at=now
    )
    quiet_since = now - settings.CXHUB_TRIAGE_INTERVAL
    claimed = (
        TriageAlert.objects.filter(pk=alert.pk)
        .filter(Q(last_paged_at__isnull=True) | Q(last_paged_at__lte=quiet_since))
        .update(last_paged_at=now, pages=F("pages") + 1)
    )
    if claimed:
        alert.refresh_from_db()
        notify.page_triage(alert, now=now)
    return bool(claimed)


def sweep(now=None) -> dict:
    """Find due work in the database: time tiers, lost reports, stuck deliveries."""
    from incidents.tasks import process_report

    now = now or timezone.now()
    stale = now - settings.CXHUB_STALE_AFTER
    lost_reports = list(
        Report.objects.filter(processed_at__isnull=True, received_at__lte=stale).values_list(
            "id", flat=True
        )[:1000]
    )
    for report_id in lost_reports:
        process_report.delay(str(report_id))
    due_incidents = list(
        Incident.objects.exclude(status=Incident.Status.RESOLVED)
        .filter(next_check_at__lte=now)
        .values_list("id", flat=True)[:1000]
    )
    for incident_id in due_incidents:
        incident_check(incident_id, now=now)
    deliveries = notify.deliveries_requeue(now=now)
    return {"reports": len(lost_reports), "incidents": len(due_incidents), "deliveries": deliveries}
