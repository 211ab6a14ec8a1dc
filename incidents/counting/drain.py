"""The worker's side of ingest: claim waiting reports in batches and count them.

Plain reports (cxhub JSON) are claimed in batches with SKIP LOCKED, so workers
take disjoint batches. Reports of stateful senders are counted in the order
they arrived, one integration at a time: a transaction-level advisory lock that
only workers take (never the Integration row, which every request references),
so a request never waits on a worker counting a big notification.
"""

import time
from collections import Counter

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from incidents.counting import doorbell
from incidents.counting.alerts import alerts_acknowledge, alerts_resolve
from incidents.counting.rule import Entry, entry_of, occurrences_count
from incidents.counting.triage import triage_digest_send, triage_record
from incidents.counting.truncation import truncation_note
from incidents.counting.waiting import reports_waiting
from incidents.models import Integration, Report, Trigger

# The advisory lock space of "counting the reports of integration <id>".
_LOCK_CLASS = 0x6378  # "cx"


def integration_lock(integration_id, *, wait: bool) -> bool:
    """Hold the integration's counting lock until the transaction ends; return whether held.

    PostgreSQL only: SQLite serialises writers on its own.
    """
    if connection.vendor != "postgresql" or integration_id is None:
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, integration_id])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, integration_id])
        return bool(cursor.fetchone()[0])


def _integrations_note(reports, trigger_counts: Counter) -> None:
    """Add counted reports to their integrations' counters (kept off the request's path).

    `trigger_counts` maps a report id to its number of triggers (any status).
    """
    latest, counts = {}, Counter()
    for report in reports:
        if report.integration_id is not None:
            at = latest.get(report.integration_id)
            latest[report.integration_id] = (
                max(at, report.received_at) if at else report.received_at
            )
            counts[report.integration_id] += trigger_counts[report.id]
    for integration_id in sorted(latest):
        at = latest[integration_id]
        Integration.objects.filter(pk=integration_id).update(
            last_received_at=Greatest(Coalesce(F("last_received_at"), Value(at)), Value(at)),
            trigger_count=F("trigger_count") + counts[integration_id],
        )


def _triage(unmatched: Counter, *, now) -> None:
    due = [
        triage_record(service=service, code=code, count=count, now=now)
        for (service, code), count in sorted(unmatched.items())
    ]
    if any(due):
        triage_digest_send(now=now)


def _plain_batch_count(*, now, only=None) -> int:
    """Claim and count up to CXHUB_REPORT_BATCH waiting plain reports in one transaction."""
    with transaction.atomic():
        waiting = reports_waiting().filter(ordered=False)
        if only is not None:
            waiting = waiting.filter(id=only)
        claimed = list(
            waiting.select_for_update(skip_locked=True)
            .order_by("received_at", "id")
            .values_list("id", "received_at")[: settings.CXHUB_REPORT_BATCH]
        )
        if not claimed:
            return 0
        ids = [report_id for report_id, _at in claimed]
        # Every read and write below names the batch's span: a day's partitions, not a year's.
        times = [at for _id, at in claimed]
        Report.objects.received_within(times).filter(id__in=ids, processed_at__isnull=True).update(
            processed_at=now
        )
        # What this call stamped, whatever a concurrent claim took (SQLite has no row locks).
        # Plain reports are counted from their triggers: the payload stays unread.
        reports = {
            r.id: r
            for r in Report.objects.received_within(times)
            .filter(id__in=ids, processed_at=now)
            .only("id", "integration_id", "received_at")
        }
        entries = {report_id: Entry(report=r, triggers=[]) for report_id, r in reports.items()}
        triggers = (
            Trigger.objects.received_within(times)
            .filter(report_id__in=entries)
            .only("id", "report_id", "service", "code", "fingerprint", "status", "received_at")
        )
        per_report = Counter()
        for trigger in triggers:
            per_report[trigger.report_id] += 1
            if trigger.status == Trigger.Status.FIRING:
                entries[trigger.report_id].triggers.append(trigger)
        _triage(occurrences_count(entries.values(), now=now), now=now)
        _integrations_note(reports.values(), per_report)
        return len(reports)


def _ordered_report_count(report_id, received_at, *, now) -> bool:
    """Claim one stateful report and count it: its new alerts, then its resolves and acks."""
    day = Report.objects.received_within([received_at])
    if not day.filter(id=report_id, processed_at__isnull=True).update(processed_at=now):
        return False
    report = day.select_related("integration").get(id=report_id)
    # One read, however big the notification.
    triggers = list(Trigger.objects.received_within([received_at]).filter(report=report))
    entry = entry_of(report, triggers, now=now)
    _triage(occurrences_count([entry], now=now), now=now)
    truncation_note(report, now=now)  # Alertmanager's truncatedAlerts, on the timeline
    for trigger in triggers:
        if trigger.status == Trigger.Status.FIRING or not trigger.fingerprint:
            continue
        if trigger.status == Trigger.Status.RESOLVED:
            alerts_resolve(report, trigger, now=now)
        else:
            alerts_acknowledge(report, trigger, now=now)
    _integrations_note([report], Counter({report.id: len(triggers)}))
    return True


def _ordered_count(integration_id, *, now, wait=False, last=None) -> int:
    """Count an integration's waiting reports in arrival order (up to `last` when given)."""
    with transaction.atomic():
        if not integration_lock(integration_id, wait=wait):
            return 0  # another worker is counting this integration's reports
        waiting = reports_waiting().filter(integration_id=integration_id, ordered=True)
        if last is not None:
            waiting = waiting.filter(received_at__lte=last.received_at)
        ids = waiting.order_by("received_at", "id").values_list("id", "received_at")
        return sum(
            _ordered_report_count(report_id, received_at, now=now)
            for report_id, received_at in ids[: settings.CXHUB_REPORT_BATCH]
        )


def _ordered_batch_count(*, now) -> int:
    integrations = (
        reports_waiting()
        .filter(ordered=True)
        .order_by()
        .values_list("integration_id", flat=True)
        .distinct()
    )
    return sum(_ordered_count(i, now=now) for i in list(integrations[:100]))


def reports_drain(*, until: float = 0.0) -> int:
    """Count waiting reports in batches until none are left; return how many.

    With nothing left, keep looking until `until` (a Unix time): the doorbell rang
    at most once in that window, and this drain is the one that answers every
    report recorded in it. Between batches that were not full it waits
    CXHUB_DRAIN_GATHER_SECONDS, so a storm's reports are counted in batches of many
    (each batch costs the same dozen queries, whatever its size). Past
    CXHUB_DRAIN_SECONDS of work the drain rings again and returns, so a long storm
    is many short tasks.
    """
    gather = min(settings.CXHUB_DRAIN_GATHER_SECONDS, settings.CXHUB_DOORBELL_SECONDS)
    started, total = time.monotonic(), 0
    while True:
        now = timezone.now()
        counted = _plain_batch_count(now=now) + _ordered_batch_count(now=now)
        total += counted
        if counted and time.monotonic() - started > settings.CXHUB_DRAIN_SECONDS:
            doorbell.ring_now()
            return total
        if counted >= settings.CXHUB_REPORT_BATCH:
            continue  # a full batch: more are waiting
        if not counted and time.time() >= until:
            return total
        time.sleep(gather)


def report_process(report_id) -> bool:
    """Count one report now, once; return whether this call did it.

    A stateful sender's report is counted after the earlier reports of its
    integration still waiting (a resolve never overtakes the trigger it ends).
    """
    now = timezone.now()
    report = Report.objects.filter(id=report_id).only("id", "ordered", "integration_id").first()
    if report is None:
        return False
    if not report.ordered:
        return bool(_plain_batch_count(now=now, only=report_id))
    report = Report.objects.get(id=report_id)
    _ordered_count(report.integration_id, now=now, wait=True, last=report)
    return Report.objects.filter(id=report_id, processed_at=now).exists()
