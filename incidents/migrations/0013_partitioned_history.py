"""Partition the report and trigger tables by day on PostgreSQL (a no-op on SQLite).

Each table is rebuilt as a range-partitioned table on received_at: one partition per
UTC day from its oldest row to AHEAD_DAYS ahead, plus a default partition; every row
is copied (INSERT ... SELECT), the old table dropped, the new one renamed, its identity
sequence moved on past the highest id, and the old indexes and constraints recreated
under their names. The primary key becomes (id, received_at): PostgreSQL requires a
partitioned table's unique keys to hold the partition key. Django still sees `id` as the
primary key (get(pk=), delete, the admin all filter on id alone).

It runs in the migration's transaction and holds each table exclusively while it copies:
run it in a quiet window (a few minutes per 10 M rows). The reverse rebuilds plain tables.
"""

from datetime import UTC, datetime, timedelta

from django.db import migrations, models

TABLES = ("incidents_report", "incidents_trigger")
COLUMN = "received_at"
AHEAD_DAYS = 7
OLDEST_DAYS = 400


def _definitions(cursor, table):
    """Return the table's primary key name, its other indexes and its other constraints."""
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass",
        [table],
    )
    constraints = cursor.fetchall()
    pk = next(name for name, kind, _ in constraints if kind == "p")
    if any(kind == "u" for _, kind, _ in constraints):
        raise RuntimeError(f"{table} has a unique constraint: it cannot be partitioned by day")
    others = [(name, definition) for name, kind, definition in constraints if kind != "p"]
    cursor.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = %s AND indexname <> %s",
        [table, pk],
    )
    indexes = [row[0].replace(" ON ONLY ", " ON ") for row in cursor.fetchall()]
    return pk, indexes, others


def _days(cursor):
    """Return the first and last day to partition: the oldest row's day to AHEAD_DAYS ahead."""
    today = datetime.now(UTC).date()
    oldest = []
    for table in TABLES:
        cursor.execute(f'SELECT min({COLUMN}) FROM "{table}"')
        value = cursor.fetchone()[0]
        if value is not None:
            oldest.append(value.astimezone(UTC).date())
    first = max(min(oldest, default=today), today - timedelta(days=OLDEST_DAYS))
    return min(first, today - timedelta(days=1)), today + timedelta(days=AHEAD_DAYS)


def _rebuild(cursor, table, days):
    """Rebuild `table` as partitioned by day (`days` = (first, last)) or, days None, plain."""
    pk, indexes, constraints = _definitions(cursor, table)
    new = f"{table}_rebuilt"
    partition_by = f" PARTITION BY RANGE ({COLUMN})" if days else ""
    cursor.execute(
        f'CREATE TABLE "{new}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING IDENTITY)'
        + partition_by
    )
    if days:
        cursor.execute(f'CREATE TABLE "{table}_default" PARTITION OF "{new}" DEFAULT')
        day, last = days
        while day <= last:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            cursor.execute(
                f'CREATE TABLE "{table}_p{day:%Y%m%d}" PARTITION OF "{new}" '
                "FOR VALUES FROM (%s) TO (%s)",
                [start, start + timedelta(days=1)],
            )
            day += timedelta(days=1)
    cursor.execute(f'INSERT INTO "{new}" SELECT * FROM "{table}"')
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    old_sequence = cursor.fetchone()[0]
    cursor.execute(f'DROP TABLE "{table}"')
    cursor.execute(f'ALTER TABLE "{new}" RENAME TO "{table}"')
    if old_sequence:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {old_sequence.split('.')[-1]}")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f'coalesce((SELECT max(id) FROM "{table}"), 0) + 1, false)',
            [table],
        )
    key = f"id, {COLUMN}" if days else "id"
    cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{pk}" PRIMARY KEY ({key})')
    for index in indexes:
        cursor.execute(index)
    for name, definition in constraints:
        cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    cursor.execute(f'ANALYZE "{table}"')


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        days = _days(cursor)
        for table in TABLES:
            _rebuild(cursor, table, days)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            _rebuild(cursor, table, None)


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0012_history_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="trigger",
            name="report",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=models.deletion.CASCADE,
                related_name="triggers",
                to="incidents.report",
                verbose_name="report",
            ),
        ),
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
