"""Retention: prune old triggers and delivery details; incidents and timelines stay."""

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone

from incidents.counting.partitions import is_partitioned, partitions_maintain, partitions_retire
from incidents.models import Incident, Report, Trigger
from notifications.models import Delivery

logger = logging.getLogger("cxhub.retention")

# Deleting in slices keeps each statement's locks short on a busy table.
BATCH = 5000
# On PostgreSQL one statement deletes this many reports and their triggers (a few
# seconds of work at most, so its locks and its WAL stay short).
SLICE_ROWS = 20_000


def retention_prune(*, now=None, trigger_days=None, delivery_days=None) -> dict:
    """Delete processed reports (and their triggers) and blank old delivery payloads.

    Incidents keep their occurrence counts and timeline events, so the history that
    support browses survives; what goes is the raw material behind it: request
    payloads, individual trigger rows, message bodies and push recipient lists.
    """
    now = now or timezone.now()
    trigger_days = settings.CXHUB_RETENTION_DAYS if trigger_days is None else trigger_days
    delivery_days = settings.CXHUB_RETENTION_DAYS if delivery_days is None else delivery_days
    cutoff = now - timezone.timedelta(days=trigger_days)
    alias = router.db_for_write(Report)
    if is_partitioned(alias):
        reports = _reports_retire_days(cutoff, now=now, alias=alias)
    elif connections[alias].vendor == "postgresql":
        reports = _reports_delete_by_time(cutoff)
    else:
        reports = _reports_delete_by_id(cutoff)
    report_counts_forget(cutoff)
    finished = [Delivery.Status.SENT, Delivery.Status.FAILED, Delivery.Status.CANCELLED]
    deliveries = (
        Delivery.objects.filter(
            status__in=finished, created_at__lt=now - timezone.timedelta(days=delivery_days)
        )
        .filter(~Q(message="") | ~Q(recipients=[]))
        .update(message="", recipients=[])
    )
    if reports or deliveries:
        logger.info("Retention pruned %d report(s) and %d delivery detail(s)", reports, deliveries)
    return {"reports": reports, "deliveries": deliveries}


def report_counts_forget(cutoff) -> int:
    """Forget the report counts of incidents that may have lost reports received before `cutoff`.

    Their count is then read from the triggers that are left (incidents.counting.bounds);
    their bounds stay true (wider than what is left).
    """
    return Incident.objects.filter(report_count__isnull=False, first_received_at__lt=cutoff).update(
        report_count=None
    )


def _reports_delete_by_id(cutoff) -> int:
    """Delete through the ORM, 5,000 reports at a time (SQLite: small databases)."""
    removed = 0
    old = Report.objects.filter(processed_at__isnull=False, received_at__lt=cutoff)
    while ids := list(old.values_list("id", flat=True)[:BATCH]):
        Report.objects.filter(id__in=ids).delete()
        removed += len(ids)
    return removed


def _reports_retire_days(cutoff, *, now, alias) -> int:
    """Retire whole UTC days by dropping their partitions (PostgreSQL, partitioned tables).

    A report goes with its day once the whole day is past the retention period, so
    it lives between N and N+1 days. The manager first creates the days ahead and
    moves rows out of the default partition. What no DROP can take (a day that keeps
    an unprocessed report, rows left in the default partition) goes by the DELETE,
    which finds only those rows: the dropped days are no longer there to scan.
    """
    day = cutoff.astimezone(UTC)
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    partitions_maintain(now=now, alias=alias)
    retired = partitions_retire(day_start, alias=alias)
    return retired + _reports_delete_by_time(day_start, partitioned=True)


def _reports_delete_by_time(cutoff, *, partitioned=False) -> int:
    """Delete processed reports received before `cutoff` and their triggers, oldest first.

    Each statement takes the next SLICE_ROWS reports in `report_received` order and
    deletes them and their triggers where they lie, loading no row into Python.
    Unprocessed reports stay (the sweep still owes them a count). Nothing else
    references a report or a trigger, so the two DELETEs are the whole job.
    """
    connection = connections[router.db_for_write(Report)]
    # Partitioned: a trigger lies in its report's day (same received_at), and saying so
    # lets PostgreSQL look only at the days before the cutoff.
    same_days = "received_at < %s AND" if partitioned else ""
    sql = f"""
        WITH doomed AS (
            SELECT id FROM {Report._meta.db_table}
            WHERE received_at < %s AND processed_at IS NOT NULL
            ORDER BY received_at LIMIT %s
        ), triggers AS (
            DELETE FROM {Trigger._meta.db_table}
            WHERE {same_days} report_id IN (SELECT id FROM doomed)
        )
        DELETE FROM {Report._meta.db_table} WHERE {same_days} id IN (SELECT id FROM doomed)
    """  # noqa: S608 (table names from the models, values as parameters)
    removed = 0
    while True:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(sql, [cutoff, SLICE_ROWS] + ([cutoff, cutoff] if partitioned else []))
            done = cursor.rowcount
        removed += done
        if done < SLICE_ROWS:
            return removed
