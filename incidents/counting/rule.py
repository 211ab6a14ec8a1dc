"""Count triggers into incidents: the one rule, for every path that counts.

A report (one request) is one occurrence per action it matches, whatever the
number of its plain triggers; each new alert of a stateful sender is one more.
The worker's drain, a single report and triage's re-processing all count
through `occurrences_count`.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Q

from actions.selectors import actions_matching
from incidents.counting.alerts import alert_detail, alerts_record
from incidents.counting.opening import incident_count_occurrence
from incidents.lifecycle.evaluation import incident_evaluate
from incidents.models import AlertInstance, Incident, Report, TimelineEvent, Trigger


@dataclass
class Entry:
    """One report's firing triggers, with the alerts that are new (trigger id -> alert).

    `alerts` None counts every trigger as plain (cxhub JSON, triage re-processing).
    """

    report: Report
    triggers: list
    alerts: dict | None = None


def entry_of(report: Report, triggers, *, now) -> Entry:
    """Take a claimed report's firing triggers (of `triggers`) and record their alerts."""
    firing = [t for t in triggers if t.status == Trigger.Status.FIRING]
    alerts = alerts_record(report, [t for t in firing if t.fingerprint], now=now)
    return Entry(report=report, triggers=firing, alerts=alerts)


def occurrences_count(entries, *, now, only_actions=None, counted=None) -> Counter:
    """Count entries into their actions' incidents, evaluate them; return the unmatched pairs.

    `only_actions` limits the count to those actions (triage re-processing); a
    (report id, action id) in `counted` (mapping to its incident id) was counted
    before, so its triggers join that incident without counting again. Incidents
    are counted in a fixed order, so two batches touching the same actions cannot
    deadlock; each opens at its earliest report.

    An incident's row is the one every worker counting its action needs, and its
    lock lasts until the caller commits; so everything that can be done without it
    (matching, linking the triggers to the incident that is open now) is done
    first, and the locked part is one UPDATE and the evaluation per incident.
    """
    entries = list(entries)
    matches = actions_matching((t.service, t.code) for e in entries for t in e.triggers)
    counted = counted or {}
    reports, alerts = defaultdict(set), defaultdict(list)
    times, trigger_ids = defaultdict(list), defaultdict(list)
    joined, joined_times, unmatched = defaultdict(list), defaultdict(list), Counter()
    report_of = {}
    for entry in entries:
        report = entry.report
        for trigger in entry.triggers:
            alert = entry.alerts.get(trigger.id) if entry.alerts is not None else None
            if entry.alerts is not None and trigger.fingerprint and alert is None:
                continue  # a re-send of an alert already counted
            action_ids = matches.get((trigger.service, trigger.code), set())
            if only_actions is not None:
                action_ids = action_ids & set(only_actions)
            elif not action_ids:
                unmatched[trigger.service, trigger.code] += 1
            report_of[trigger.id] = report
            for action_id in action_ids:
                if (report.id, action_id) in counted:
                    joined[counted[report.id, action_id]].append(trigger.id)
                    joined_times[counted[report.id, action_id]].append(report.received_at)
                    continue
                trigger_ids[action_id].append(trigger.id)
                times[action_id].append(report.received_at)
                if alert is not None:
                    alerts[action_id].append((report, alert))
                else:
                    reports[action_id].add(report.id)
    # Each write names its triggers' span (a trigger carries its report's received_at).
    for incident_id, ids in joined.items():
        # The incident's trigger bounds and report count already hold these: their
        # report has a trigger on it, received at the same time (counting.bounds).
        Trigger.objects.received_within(joined_times[incident_id]).filter(
            id__in=ids, incident=None
        ).update(incident=incident_id)
    order = sorted(trigger_ids, key=str)
    owned = _owners(order, trigger_ids)
    # Before any incident row is locked: the triggers join the incident open now.
    seen = {
        incident.action_id: incident
        for incident in Incident.objects.filter(action_id__in=order)
        .exclude(status=Incident.Status.RESOLVED)
        .select_related("action")
    }
    for action_id in order:
        if owned[action_id] and action_id in seen:
            Trigger.objects.received_within(times[action_id]).filter(
                id__in=owned[action_id], incident=None
            ).update(incident=seen[action_id])
    for action_id in order:
        incident = incident_count_occurrence(
            action_id=action_id,
            at=max(times[action_id]),
            first_at=min(times[action_id]),
            count=len(reports[action_id]) + len(alerts[action_id]),
            # The reports whose triggers it links (a trigger joins its first action's).
            reports=len({report_of[i].id for i in owned[action_id]}),
            seen=seen.get(action_id),
        )
        if owned[action_id] and (action_id not in seen or incident.pk != seen[action_id].pk):
            # Opened, reopened or replaced since the look above: the triggers follow.
            linked = Q(incident=None)
            if action_id in seen:
                linked |= Q(incident=seen[action_id])
            Trigger.objects.received_within(times[action_id]).filter(
                linked, id__in=owned[action_id]
            ).update(incident=incident)
        if alerts[action_id]:
            _alerts_join(incident, alerts[action_id])
        incident_evaluate(incident, now=now)
    return unmatched


def _owners(order, trigger_ids) -> dict:
    """Map each action to the triggers it links: a trigger joins its first action's incident."""
    owned, seen = {}, set()
    for action_id in order:
        owned[action_id] = [t for t in trigger_ids[action_id] if t not in seen]
        seen.update(owned[action_id])
    return owned


def _alerts_join(incident, alerts) -> None:
    """Link new alerts to the incident and note each on its timeline, in two queries."""
    AlertInstance.incidents.through.objects.bulk_create(
        [
            AlertInstance.incidents.through(alertinstance_id=alert.pk, incident_id=incident.pk)
            for _, alert in alerts
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    TimelineEvent.objects.bulk_create(
        [
            TimelineEvent(
                incident=incident,
                kind=TimelineEvent.Kind.ALERT_FIRING,
                detail=alert_detail(report, alert),
                actor=report.integration.kind if report.integration_id else "cxhub",
                at=report.received_at,
            )
            for report, alert in alerts
        ],
        batch_size=1000,
    )
