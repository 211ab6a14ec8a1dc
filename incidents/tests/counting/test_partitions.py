"""Day partitions of reports and triggers on PostgreSQL: created ahead, retired whole."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import make_scenario
from incidents import services
from incidents.counting import drain, partitions
from incidents.counting.retention import retention_prune
from incidents.models import Incident, Integration, Report, TimelineEvent, Trigger

PARTITION = re.compile(r"incidents_(?:report|trigger)_(?:p\d{8}|default)")

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL declarative partitioning"
)


def record(at, *, processed=True, incident=None):
    report = Report.objects.create(
        received_at=at, payload={}, processed_at=at if processed else None
    )
    Trigger.objects.create(
        report=report, service="login", code="503", received_at=at, matched=True, incident=incident
    )
    return report


def exists(name) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def rows_in(name) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{name}"')  # noqa: S608
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_manager_creates_days_ahead_and_gives_default_rows_their_day():
    now = timezone.now()
    old = record(now - timedelta(days=100))
    day = (now - timedelta(days=100)).astimezone(UTC).date()
    assert rows_in("incidents_report_default") == 1
    assert rows_in("incidents_trigger_default") == 1

    partitions.partitions_maintain(now=now + timedelta(days=3))

    for table in partitions.TABLES:
        assert rows_in(f"{table}_default") == 0
        assert rows_in(partitions.partition_name(table, day)) == 1
        ahead = (now + timedelta(days=3 + partitions.AHEAD_DAYS)).astimezone(UTC).date()
        assert exists(partitions.partition_name(table, ahead))
    # The ORM reads and writes through the parent as before.
    assert Report.objects.get(pk=old.pk).triggers.get().code == "503"
    assert partitions.partitions_maintain(now=now + timedelta(days=3)) == 0


@pytest.mark.django_db
def test_retention_drops_old_days_and_keeps_incidents_and_a_day_owing_a_count():
    scenario = make_scenario()
    now = timezone.now()
    incident = Incident.objects.create(
        action=scenario["action"], occurrences=2, opened_at=now, last_occurrence_at=now, policy={}
    )
    TimelineEvent.objects.create(incident=incident, at=now, kind=TimelineEvent.Kind.OPENED)
    gone = [record(now - timedelta(days=40), incident=incident) for _ in range(2)]
    owing = now - timedelta(days=35)
    counted, uncounted = record(owing), record(owing, processed=False)
    fresh = record(now - timedelta(days=2), incident=incident)
    partitions.partitions_maintain(now=now)
    gone_day = (now - timedelta(days=40)).astimezone(UTC).date()
    owing_day = owing.astimezone(UTC).date()

    result = retention_prune(now=now, trigger_days=30, delivery_days=3650)

    assert result["reports"] == 3
    for table in partitions.TABLES:
        assert not exists(partitions.partition_name(table, gone_day))
        # A day with a report the sweep has not counted stays; only its counted rows go.
        assert exists(partitions.partition_name(table, owing_day))
    assert set(Report.objects.values_list("id", flat=True)) == {uncounted.id, fresh.id}
    assert set(Trigger.objects.values_list("report_id", flat=True)) == {uncounted.id, fresh.id}
    assert not Report.objects.filter(id__in=[r.id for r in gone] + [counted.id]).exists()
    incident.refresh_from_db()
    assert incident.occurrences == 2
    assert incident.events.filter(kind=TimelineEvent.Kind.OPENED).exists()
    assert retention_prune(now=now, trigger_days=30, delivery_days=3650)["reports"] == 0


@pytest.mark.django_db
def test_a_report_is_found_and_deleted_by_its_id_alone():
    report = record(timezone.now())
    trigger = report.triggers.get()
    assert Trigger.objects.get(pk=trigger.pk).report_id == report.pk
    Report.objects.get(pk=report.pk).delete()
    assert not Trigger.objects.filter(pk=trigger.pk).exists()
    assert record(timezone.now()).triggers.get().pk > trigger.pk


@pytest.fixture
def leaf_restored():
    """Migrate the database back to the latest migrations after a test that went back."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_every_row_of_plain_tables_into_day_partitions(leaf_restored):
    executor = MigrationExecutor(connection)
    before = [("incidents", "0012_history_indexes")]
    after = [("incidents", "0013_partitioned_history")]
    executor.migrate(before)
    try:
        assert not partitions.is_partitioned()
        now = datetime.now(UTC)
        reports = [record(now - timedelta(days=d, hours=d)) for d in (0, 1, 9, 9, 31)]
        highest = Trigger.objects.order_by("-id").values_list("id", flat=True)[0]
    finally:
        executor.loader.build_graph()
        executor.migrate(after)

    assert partitions.is_partitioned()
    assert set(Report.objects.values_list("id", flat=True)) == {r.id for r in reports}
    assert Trigger.objects.count() == 5
    assert rows_in("incidents_report_default") == 0
    with connection.cursor() as cursor:
        days = partitions.partition_days(cursor)
    assert days[0] == (now - timedelta(days=31, hours=31)).date()
    assert days[-1] == now.date() + timedelta(days=partitions.AHEAD_DAYS)
    # The identity sequence goes on past the copied ids.
    assert record(now).triggers.get().id > highest


def partitions_planned(queryset_or_sql, params=()) -> set[str]:
    """The partitions of reports and triggers a statement's plan reads."""
    if not isinstance(queryset_or_sql, str):
        queryset_or_sql, params = queryset_or_sql.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {queryset_or_sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return set(PARTITION.findall(plan))


@pytest.mark.django_db
def test_the_drain_reads_and_writes_only_the_days_of_its_batch():
    """A query by id alone plans every day of the year; the drain names its batch's days."""
    make_scenario()
    now = timezone.now()
    partitions.partitions_maintain(now=now - timedelta(days=20))  # 20 days + ahead
    partitions.partitions_maintain(now=now)
    integration = Integration.objects.create(name="monitoring")
    for _ in range(3):
        services.report_ingest(
            integration=integration, triggers=[{"service": "login", "code": "503"}], payload={}
        )
    with CaptureQueriesContext(connection) as queries:
        assert drain._plain_batch_count(now=now) == 3
    today = partitions.partition_name("incidents_report", now.astimezone(UTC).date())
    statements = [
        q["sql"]
        for q in queries.captured_queries
        if ('"incidents_report"' in q["sql"] or '"incidents_trigger"' in q["sql"])
        and not q["sql"].startswith("INSERT")
    ]
    assert len(statements) >= 4  # claim, stamp, read, triggers, linking
    claim, *bounded = statements
    assert "FOR UPDATE SKIP LOCKED" in claim
    for sql in bounded:
        assert '"received_at" >=' in sql and '"received_at" <=' in sql, sql
    # The same statements' plans read today's partitions, not the twenty days before.
    rows = Report.objects.received_within([now]).filter(id__in=[Report.objects.first().pk])
    assert partitions_planned(rows) <= {today, "incidents_report_default"}
    everything = partitions_planned(Report.objects.filter(id__in=[Report.objects.first().pk]))
    assert len(everything) > 10
