"""Record what monitoring sent: one short transaction per request, then ring the worker.

Nothing here waits on a worker: the request inserts its report and triggers,
touches no row a worker locks, and answers. Counting happens in `counting`.
"""

from django.db import connections, router, transaction
from django.db.models import F, Q
from django.db.models.sql import InsertQuery
from django.utils import timezone

from actions.selectors import actions_matching
from cxhub import hotcache
from incidents.counting import doorbell
from incidents.models import Integration, Report, Trigger


def report_ingest(*, integration, triggers: list[dict], payload) -> tuple[Report, list[Trigger]]:
    """Record one request's triggers in one transaction and ring the worker.

    Each trigger dict has service, code and status. The returned triggers carry
    `matched`: whether an action covered them on arrival. Reports of stateful
    senders (anything but cxhub JSON) are `ordered`: counted in arrival order.
    """
    now = timezone.now()
    pairs = frozenset((t["service"], t["code"]) for t in triggers)
    # `matched` is informative (the worker matches again), so a cached answer will do.
    matches = hotcache.rule_matches.get(pairs, lambda: actions_matching(pairs))
    ordered = integration is not None and integration.kind != Integration.Kind.CXHUB
    report = Report(integration=integration, received_at=now, payload=payload, ordered=ordered)
    rows = [
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
    ]
    connection = connections[router.db_for_write(Report)]
    if connection.vendor == "postgresql" and len(rows) <= ONE_STATEMENT_MAX:
        _insert_in_one_statement(connection, report, rows)
    else:
        with transaction.atomic():
            report.save(force_insert=True)
            Trigger.objects.bulk_create(rows, batch_size=1000)
    doorbell.ring_on_commit()
    return report, rows


# A storm's request carries a trigger or a few: one statement is one round trip and
# one commit. Bigger reports (an Alertmanager group) take the ORM's batches.
ONE_STATEMENT_MAX = 50


def _insert_sql(connection, objs, *, returning=()):
    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)]
    query = InsertQuery(model)
    query.insert_values(fields, objs)
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = list(returning) or None
    [(sql, params)] = compiler.as_sql()
    return sql, params


def _insert_in_one_statement(connection, report, rows) -> None:
    """INSERT the report and its triggers in one statement (atomic by itself) on PostgreSQL.

    The statements are the ORM's own (`InsertQuery`), joined as a data-modifying
    CTE; the report's key is made in Python, so the triggers need nothing back.
    """
    report_sql, report_params = _insert_sql(connection, [report])
    rows_sql, rows_params = _insert_sql(connection, rows, returning=[Trigger._meta.pk])
    with connection.cursor() as cursor:
        cursor.execute(f"WITH report AS ({report_sql}) {rows_sql}", (*report_params, *rows_params))
        ids = [pk for (pk,) in cursor.fetchall()]
    report._state.adding = False
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk
        row._state.adding = False


def integration_admit(integration, *, now=None) -> int:
    """Count one request against the integration's rate limit; return 0, or seconds to wait.

    A fixed one-minute window kept on the integration's row: conditional UPDATEs,
    so concurrent requests (any number of web processes) cannot exceed the limit.
    Only integrations with a limit (an opt-in) pay for it.
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
