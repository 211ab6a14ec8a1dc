"""Alerts of stateful senders: each distinct alert is one occurrence, its end may resolve.

An alert is an `AlertInstance`, unique per (integration, fingerprint, startsAt):
a re-send fails the insert and counts nothing, even under concurrency.
"""

from collections import defaultdict

from django.db import IntegrityError, transaction

from incidents.counting.bounds import trigger_attached
from incidents.history.texts import detail
from incidents.history.timeline import event_add
from incidents.lifecycle.commands import incident_acknowledge
from incidents.lifecycle.resolution import incident_resolve
from incidents.models import AlertInstance, Incident, TimelineEvent, Trigger


def alert_detail(report, alert) -> str:
    text = f"{alert.service}/{alert.code} {alert.status} [{alert.fingerprint}]"
    if alert.summary:
        text += f": {alert.summary}"
    return f"{text} (report {report.id})"


def alerts_record(report, triggers, *, now) -> dict:
    """Insert the alerts these firing triggers carry; return {trigger id: new AlertInstance}.

    A trigger whose alert already exists (a re-send, or a key still firing) fails
    the insert on a unique constraint and is not an occurrence. Only reports of one
    integration run this at a time (its advisory lock), but the constraints alone keep
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


def _trigger_attach(trigger, incident_id, alert) -> None:
    """Put a sender's acknowledge/resolve on the incident, named for the alert it ends.

    A PagerDuty resolve or an Opsgenie close names only the alert (its dedup key or
    alias): the service and code are the alert's, so the record reads as what it is.
    """
    fields = {"incident": incident_id}
    if alert is not None and not trigger.service:
        fields.update(service=alert.service, code=alert.code)
    Trigger.objects.received_within([trigger.received_at]).filter(pk=trigger.pk).update(**fields)
    trigger_attached(incident_id, trigger)


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
    kind = report.integration.actor
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
        _trigger_attach(trigger, min(by_incident, key=str), alerts[0])
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
            line = alert_detail(report, alert)
            event_add(incident, TimelineEvent.Kind.ALERT_RESOLVED, line, actor=kind, at=now)
        if incident.alerts.filter(status=AlertInstance.Status.FIRING).exists():
            continue
        total = incident.alerts.count()
        if incident_resolve(
            incident_id=incident_id,
            by=kind,
            note=detail("alerts_resolved", total=total),
            now=now,
        ):
            resolved.append(incident_id)
    return resolved


def fed_only_by(incident_id, integration_id) -> bool:
    """Return whether every trigger and alert of the incident came from this integration."""
    others = Trigger.objects.filter(incident_id=incident_id).exclude(
        report__integration_id=integration_id
    )
    other_alerts = AlertInstance.objects.filter(incidents=incident_id).exclude(
        integration_id=integration_id
    )
    return not others.exists() and not other_alerts.exists()


def alerts_acknowledge(report, trigger, *, now) -> list:
    """Acknowledge the incidents of the trigger's firing alert (PagerDuty, Opsgenie acknowledge).

    A monitoring sender speaks for its own alerts only: an incident that other
    senders feed too keeps escalating (its acknowledgement needs the Support role,
    docs/security.md), and its timeline says why the sender's was not taken.
    """
    incident_ids = sorted(
        set(
            Incident.objects.filter(
                alerts__in=_alerts_of(report, trigger).filter(status=AlertInstance.Status.FIRING)
            ).values_list("id", flat=True)
        ),
        key=str,
    )
    if incident_ids:
        alert = _alerts_of(report, trigger).first()
        _trigger_attach(trigger, incident_ids[0], alert)
    kind = report.integration.actor
    acknowledged = []
    for incident_id in incident_ids:
        if not fed_only_by(incident_id, report.integration_id):
            incident = Incident.objects.filter(pk=incident_id).first()
            if incident is not None and incident.status == Incident.Status.OPEN:
                event_add(
                    incident,
                    TimelineEvent.Kind.ALERT_UPDATED,
                    detail("sender_ack_refused", sender=kind),
                    actor=kind,
                    at=now,
                )
            continue
        if incident_acknowledge(incident_id=incident_id, by=kind, now=now):
            acknowledged.append(incident_id)
    return acknowledged
