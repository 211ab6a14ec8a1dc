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
from incidents import lifecycle
from incidents.escalation import evaluate, policy_of
from incidents.models import (
    AlertInstance,
    Incident,
    Integration,
    Report,
    TimelineEvent,
    TriageAlert,
    Trigger,
)
from incidents.truncation import truncation_note
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
                fingerprint=t.get("fingerprint", ""),
                starts_at=t.get("starts_at"),
                summary=t.get("summary", ""),
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
    Reports of stateful senders (alerts that fire, then resolve) are processed in
    the order they arrived: a worker holds the integration's row lock and first
    processes any earlier report of it still waiting, so a resolve never overtakes
    the trigger it ends.
    """
    now = timezone.now()
    report = Report.objects.filter(id=report_id).select_related("integration").first()
    if report is None or report.processed_at is not None:
        return False
    integration = report.integration
    if integration is None or integration.kind == Integration.Kind.CXHUB:
        with transaction.atomic():
            return _plain_reports_process(report_id, now=now)
    with transaction.atomic():
        Integration.objects.select_for_update().filter(pk=integration.pk).first()
        waiting = Report.objects.filter(
            integration=integration, processed_at__isnull=True, received_at__lte=report.received_at
        ).order_by("received_at", "id")
        done = False
        for earlier_id in waiting.values_list("id", flat=True):
            processed = _report_claim_and_process(earlier_id, now=now)
            done = done or (processed and earlier_id == report.id)
        return done


def _plain_reports_process(report_id, *, now) -> bool:
    """Count this report and other waiting plain (cxhub JSON) reports in one batch.

    Under a monitoring storm one transaction per report makes every worker queue on
    the incident's row lock; a batch takes it once. Rows are locked with SKIP
    LOCKED, so concurrent workers take disjoint batches, and each report is still
    claimed by a conditional UPDATE in this transaction. Each report remains one
    occurrence per action it matches; the incident opens at its earliest report.
    Returns whether this call processed `report_id`.
    """
    plain = Report.objects.filter(processed_at__isnull=True).filter(
        Q(integration__isnull=True)
        | Q(integration_id__in=Integration.objects.filter(kind=Integration.Kind.CXHUB).values("id"))
    )
    locked = plain.select_for_update(skip_locked=True)
    ids = list(locked.filter(id=report_id).values_list("id", flat=True))
    ids += list(
        locked.exclude(id=report_id)
        .order_by("received_at", "id")
        .values_list("id", flat=True)[: settings.CXHUB_REPORT_BATCH - len(ids)]
    )
    if not ids or not Report.objects.filter(id__in=ids, processed_at__isnull=True).update(
        processed_at=now
    ):
        return False
    received = dict(Report.objects.filter(id__in=ids).values_list("id", "received_at"))
    firing = list(
        Trigger.objects.filter(report_id__in=ids, status=Trigger.Status.FIRING).only(
            "id", "report_id", "service", "code"
        )
    )
    matches = actions_matching((t.service, t.code) for t in firing)
    reports_by_action, triggers_by_action = defaultdict(set), defaultdict(list)
    unmatched = Counter()
    for trigger in firing:
        action_ids = matches[trigger.service, trigger.code]
        if not action_ids:
            unmatched[trigger.service, trigger.code] += 1
        for action_id in action_ids:
            reports_by_action[action_id].add(trigger.report_id)
            triggers_by_action[action_id].append(trigger.id)
    # A fixed order keeps two batches touching the same actions from deadlocking.
    for action_id in sorted(reports_by_action, key=str):
        times = sorted(received[r] for r in reports_by_action[action_id])
        incident = incident_count_occurrence(
            action_id=action_id, at=times[-1], first_at=times[0], count=len(times)
        )
        Trigger.objects.filter(id__in=triggers_by_action[action_id], incident=None).update(
            incident=incident
        )
        incident_evaluate(incident, now=now)
    for (service, code), count in sorted(unmatched.items()):
        triage_record(service=service, code=code, count=count, now=now)
    return report_id in received


def _report_claim_and_process(report_id, *, now) -> bool:
    claimed = Report.objects.filter(id=report_id, processed_at__isnull=True).update(
        processed_at=now
    )
    if not claimed:
        return False
    report = Report.objects.select_related("integration").get(id=report_id)
    firing = list(report.triggers.filter(status=Trigger.Status.FIRING))
    # Triggers with a fingerprint count once per distinct alert; the others (cxhub
    # JSON) count once per report and action.
    new_alerts = alerts_record(report, [t for t in firing if t.fingerprint], now=now)
    matches = actions_matching((t.service, t.code) for t in firing)
    by_action = defaultdict(list)
    alerts_by_action = defaultdict(list)
    unmatched = Counter()
    for trigger in firing:
        if trigger.fingerprint and trigger.id not in new_alerts:
            continue
        action_ids = matches[trigger.service, trigger.code]
        if not action_ids:
            unmatched[trigger.service, trigger.code] += 1
        for action_id in action_ids:
            by_action[action_id].append(trigger.id)
            if trigger.fingerprint:
                alerts_by_action[action_id].append(new_alerts[trigger.id])
    # A fixed order keeps two reports touching the same actions from deadlocking.
    for action_id in sorted(by_action, key=str):
        alerts = alerts_by_action[action_id]
        plain = len(by_action[action_id]) > len(alerts)
        incident = incident_count_occurrence(
            action_id=action_id, at=report.received_at, count=len(alerts) + plain
        )
        Trigger.objects.filter(id__in=by_action[action_id], incident=None).update(incident=incident)
        for alert in alerts:
            alert.incidents.add(incident)
            event_add(
                incident,
                TimelineEvent.Kind.ALERT_FIRING,
                _alert_detail(report, alert),
                actor=report.integration.kind,
                at=report.received_at,
            )
        incident_evaluate(incident, now=now)
    for (service, code), count in sorted(unmatched.items()):
        triage_record(service=service, code=code, count=count, now=now)
    truncation_note(report, now=now)
    others = report.triggers.exclude(status=Trigger.Status.FIRING).exclude(fingerprint="")
    for trigger in others:
        if trigger.status == Trigger.Status.RESOLVED:
            alerts_resolve(report, trigger, now=now)
        else:
            alerts_acknowledge(report, trigger, now=now)
    return True


def _alert_detail(report, alert) -> str:
    text = f"{alert.service}/{alert.code} {alert.status} [{alert.fingerprint}]"
    if alert.summary:
        text += f": {alert.summary}"
    return f"{text} (report {report.id})"


def alerts_record(report, triggers, *, now) -> dict:
    """Insert the alerts these firing triggers carry; return {trigger id: new AlertInstance}.

    A trigger whose alert already exists (a re-send, or a key still firing) fails
    the insert on a unique constraint and is not an occurrence. Only reports of one
    integration run this at a time (its row lock), but the constraints alone keep
    the count right if that ever changes.
    """
    new = {}
    for trigger in triggers:
        starts_at = trigger.starts_at or report.received_at
        if trigger.starts_at is not None:
            # The same fingerprint with a new startsAt fired again: the earlier episode
            # ended even if its resolved notification never came.
            AlertInstance.objects.filter(
                integration=report.integration_id,
                fingerprint=trigger.fingerprint,
                status=AlertInstance.Status.FIRING,
                starts_at__lt=trigger.starts_at,
            ).update(status=AlertInstance.Status.RESOLVED, resolved_at=now)
        try:
            with transaction.atomic():
                new[trigger.id] = AlertInstance.objects.create(
                    integration_id=report.integration_id,
                    fingerprint=trigger.fingerprint,
                    starts_at=starts_at,
                    service=trigger.service,
                    code=trigger.code,
                    summary=trigger.summary,
                    first_seen_at=report.received_at,
                )
        except IntegrityError:
            continue
    return new


def _alerts_of(report, trigger):
    alerts = AlertInstance.objects.filter(
        integration=report.integration_id, fingerprint=trigger.fingerprint
    )
    if trigger.starts_at is not None:
        return alerts.filter(starts_at=trigger.starts_at)
    return alerts.filter(status=AlertInstance.Status.FIRING)


def alerts_resolve(report, trigger, *, now) -> list:
    """Mark the trigger's alert resolved; resolve each incident left with no firing alert.

    The incident's row lock is taken before looking for firing alerts, so a report
    that is adding a firing alert to it either commits first (and is seen) or
    finds the incident resolved and opens a new one.
    """
    kind = report.integration.kind
    # An Alertmanager episode (fingerprint + startsAt) may already be resolved, e.g.
    # with an incident resolved by hand; its other incidents still get their check.
    alerts = list(_alerts_of(report, trigger))
    if not alerts and trigger.starts_at is not None:
        # Resolved before its firing notification was seen: remember the episode so
        # a late firing copy of it is a re-send, not a new occurrence.
        try:
            with transaction.atomic():
                AlertInstance.objects.create(
                    integration_id=report.integration_id,
                    fingerprint=trigger.fingerprint,
                    starts_at=trigger.starts_at,
                    status=AlertInstance.Status.RESOLVED,
                    service=trigger.service,
                    code=trigger.code,
                    summary=trigger.summary,
                    first_seen_at=report.received_at,
                    resolved_at=now,
                )
        except IntegrityError:
            pass
        return []
    ending = [a for a in alerts if a.status == AlertInstance.Status.FIRING]
    AlertInstance.objects.filter(id__in=[a.id for a in ending]).update(
        status=AlertInstance.Status.RESOLVED, resolved_at=now
    )
    by_incident = defaultdict(list)
    for alert in alerts:
        for incident_id in alert.incidents.values_list("id", flat=True):
            by_incident[incident_id].append(alert)
    if by_incident:
        # Keep the resolving notification on the incident's history too.
        Trigger.objects.filter(pk=trigger.pk).update(incident=min(by_incident, key=str))
    resolved = []
    for incident_id in sorted(by_incident, key=str):
        incident = (
            Incident.objects.select_for_update()
            .exclude(status=Incident.Status.RESOLVED)
            .filter(pk=incident_id)
            .first()
        )
        if incident is None:
            continue
        for alert in by_incident[incident_id]:
            if alert not in ending:
                continue
            alert.status = AlertInstance.Status.RESOLVED
            detail = _alert_detail(report, alert)
            event_add(incident, TimelineEvent.Kind.ALERT_RESOLVED, detail, actor=kind, at=now)
        if incident.alerts.filter(status=AlertInstance.Status.FIRING).exists():
            continue
        total = incident.alerts.count()
        if incident_resolve(
            incident_id=incident_id, by=kind, note=f"All {total} alert(s) resolved", now=now
        ):
            resolved.append(incident_id)
    return resolved


def alerts_acknowledge(report, trigger, *, now) -> list:
    """Acknowledge the incidents of the trigger's firing alert (PagerDuty acknowledge)."""
    incident_ids = sorted(
        set(
            Incident.objects.filter(
                alerts__in=_alerts_of(report, trigger).filter(status=AlertInstance.Status.FIRING)
            ).values_list("id", flat=True)
        ),
        key=str,
    )
    if incident_ids:
        Trigger.objects.filter(pk=trigger.pk).update(incident=incident_ids[0])
    return [
        incident_id
        for incident_id in incident_ids
        if incident_acknowledge(incident_id=incident_id, by=report.integration.kind, now=now)
    ]


def incident_count_occurrence(*, action_id, at, count=1, first_at=None) -> Incident:
    """Add occurrences (one unless told) to the action's unresolved incident, opening one if needed.

    `at` is when the latest of them arrived, `first_at` the earliest (a new
    incident opens then; default `at`).

    The F() update takes the incident's row lock until commit, so concurrent
    reports are counted one after the other; the partial unique constraint makes a
    second concurrent open fail, and that caller counts into the winner instead.
    """
    unresolved = Incident.objects.filter(action_id=action_id).exclude(
        status=Incident.Status.RESOLVED
    )
    if unresolved.update(occurrences=F("occurrences") + count, last_occurrence_at=at):
        incident = unresolved.select_related("action").get()
        occurrence_milestone(incident, added=count)
        return incident
    first_at = first_at or at
    reopened = lifecycle.incident_reopen_flapping(action_id=action_id, at=first_at, count=count)
    if reopened is not None:
        occurrence_milestone(reopened, added=count)
        return reopened
    action = Action.objects.get(id=action_id)
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                action=action,
                occurrences=count,
                opened_at=first_at,
                last_occurrence_at=at,
                policy=policy_of(action),
            )
    except IntegrityError:
        return incident_count_occurrence(action_id=action_id, at=at, count=count, first_at=first_at)
    event_add(incident, TimelineEvent.Kind.OPENED, f"Opened by action {action}", at=first_at)
    occurrence_milestone(incident, added=count)  # a batch may open it past 10 already
    return incident


def occurrence_milestone(incident: Incident, *, added: int = 1) -> None:
    """Note 10, 100, 1000 ... occurrences on the timeline (each count is reached once).

    `added` occurrences were just counted, so a jump (9 -> 11 alerts) still notes 10.
    Stamped when counted, like the pushes and pages it leads to, so the timeline
    reads in order even when reports wait in the queue.
    """
    milestone = 10
    while milestone <= incident.occurrences:
        if milestone > incident.occurrences - added:
            event_add(incident, TimelineEvent.Kind.OCCURRENCE, f"{milestone} occurrences")
        milestone *= 10


def incident_evaluate(incident: Incident, *, now) -> None:
    """Queue what is due for a locked, current incident and note when to look again.

    Timers and holds come first (`lifecycle.settle`): the quiet period may resolve
    it, an acknowledgement may time out, a silence or maintenance may hold pages.
    """
    hold = lifecycle.settle(incident, now=now)
    if hold is None:
        return
    due = evaluate(
        incident.policy,
        occurrences=incident.occurrences,
        opened_at=incident.escalation_from or incident.opened_at,
        now=now,
        escalation_level=incident.escalation_level,
        pushed=incident.push_queued_at is not None,
        paging_stopped=lifecycle.paging_stopped(incident, hold),
        push_held=hold.push,
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
        if mine.filter(escalation_level__lt=top).update(escalation_level=top, last_paged_at=now):
            incident.escalation_level, incident.last_paged_at = top, now
            for tier in due.tiers:
                channels = notify.page_tier(incident, tier, now=now)
                event_add(
                    incident,
                    TimelineEvent.Kind.TIER_PAGED,
                    f"Tier {tier['level']} ({tier['name']}) paged through {channels} channel(s) "
                    f"at {incident.occurrences} occurrences",
                    at=now,
                )
    lifecycle.repeat_if_due(incident, hold=hold, now=now)
    next_check_at = lifecycle.next_check(incident, tiers_next=due.next_check_at, hold=hold, now=now)
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


def incident_acknowledge(*, incident_id, by: str, note: str = "", now=None) -> bool:
    """Stop further tier pages for an open incident and tell the paged teams.

    Return whether it changed (False: not open, i.e. acknowledged or resolved).
    """
    now = now or timezone.now()
    with transaction.atomic():
        changed = Incident.objects.filter(pk=incident_id, status=Incident.Status.OPEN).update(
            status=Incident.Status.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=by
        )
        if changed:
            incident = Incident.objects.select_related("action").get(pk=incident_id)
            event = event_add(incident, TimelineEvent.Kind.ACKNOWLEDGED, note, actor=by, at=now)
            lifecycle.teams_tell(incident, event, now=now)
            # Looks again at the quiet period and the acknowledgement timeout.
            incident_evaluate(incident, now=now)
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
        # Its alerts end with it: a PagerDuty or generic trigger for the same key
        # then opens a new incident, while an Alertmanager re-send (same startsAt)
        # still counts nothing.
        AlertInstance.objects.filter(
            incidents=incident_id, status=AlertInstance.Status.FIRING
        ).update(status=AlertInstance.Status.RESOLVED, resolved_at=now)
        incident = Incident.objects.select_related("action").get(pk=incident_id)
        event = event_add(incident, TimelineEvent.Kind.RESOLVED, note, actor=by, at=now)
        lifecycle.teams_tell(incident, event, now=now)
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


def integration_admit(integration, *, now=None) -> int:
    """Count one request against the integration's rate limit; return 0, or seconds to wait.

    A fixed one-minute window kept on the integration's row: conditional UPDATEs,
    so concurrent requests (any number of web processes) cannot exceed the limit.
    """
    if not integration.rate_limit:
        return 0
    now = now or timezone.now()
    window = now.replace(second=0, microsecond=0)
    mine = Integration.objects.filter(pk=integration.pk)
    for _ in range(2):
        if mine.filter(rate_window=window, rate_count__lt=F("rate_limit")).update(
            rate_count=F("rate_count") + 1
        ):
            return 0
        if (
            mine.exclude(rate_window=window)
            .filter(Q(rate_window__lt=window) | Q(rate_window__isnull=True))
            .update(rate_window=window, rate_count=1)
        ):
            return 0
    return max(1, 60 - now.second)


def integration_reject(integration, reason: str) -> None:
    """Keep why a request of this integration was turned away, for the admin."""
    Integration.objects.filter(pk=integration.pk).update(
        last_error=f"{timezone.now():%Y-%m-%d %H:%M:%S} {reason}"[:2000]
    )
