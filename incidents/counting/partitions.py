"""Day partitions of the report and trigger tables on PostgreSQL: create ahead, retire behind.

`incidents_report` and `incidents_trigger` are partitioned by range of `received_at`
(a trigger's is always its report's), one partition per UTC day, named
`<table>_pYYYYMMDD`, plus `<table>_default` for rows outside every day (a clock far
off, or days the manager has not created yet), so an insert never fails for want of
a partition. Both tables always get the same days, so a report and its triggers
live and die together.

Beat runs the manager hourly through retention (`retention_prune`): it creates the
next AHEAD_DAYS days, gives rows that landed in the default partition a day of their
own, and retires the days older than the retention period with one DROP TABLE of the
day's two partitions. Every DDL statement runs under a short lock_timeout: if a long
query holds the table, the statement gives up and the next run tries again, instead
of queueing every ingest behind it.
"""

import logging
from datetime import UTC, date, datetime, timedelta

from django.db import DatabaseError, connections, transaction

logger = logging.getLogger("cxhub.retention")

# The partitioned tables, parent first: retiring a day drops both partitions at once.
TABLES = ("incidents_report", "incidents_trigger")
COLUMN = "received_at"
AHEAD_DAYS = 7
# How long a partition statement may wait for a lock before it gives up until the next run.
LOCK_TIMEOUT = "2s"


def is_partitioned(alias: str = "default") -> bool:
    """Say whether the report table is a partitioned table (PostgreSQL after migration 0013)."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLES[0]])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def partition_name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def partition_days(cursor, table: str = TABLES[0]) -> list[date]:
    """Return the days that have a partition of `table`, oldest first."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(%s)",
        [table],
    )
    prefix = f"{table}_p"
    return sorted(
        datetime.strptime(name[len(prefix) :], "%Y%m%d").date()
        for (name,) in cursor.fetchall()
        if name.startswith(prefix)
    )


def _day_create(cursor, table: str, day: date) -> None:
    """Create one day's partition, moving into it any rows the default partition holds.

    The table is built apart and then attached: ATTACH takes only a SHARE UPDATE
    EXCLUSIVE lock on the parent (ingest and reads go on), and the CHECK constraint
    lets PostgreSQL skip scanning the new table to prove its rows fit.
    """
    name = partition_name(table, day)
    start, end = _bounds(day)
    default = f"{table}_default"
    cursor.execute(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS)')
    cursor.execute(
        f'ALTER TABLE "{name}" ADD CONSTRAINT "{name}_bound" '
        f"CHECK ({COLUMN} IS NOT NULL AND {COLUMN} >= %s AND {COLUMN} < %s)",
        [start, end],
    )
    # Table and column names are this module's own; the bounds are parameters.
    moved = f'DELETE FROM "{default}" WHERE {COLUMN} >= %s AND {COLUMN} < %s RETURNING *'  # noqa: S608
    move = f'WITH moved AS ({moved}) INSERT INTO "{name}" SELECT * FROM moved'  # noqa: S608
    cursor.execute(move, [start, end])
    cursor.execute(
        f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)',
        [start, end],
    )


def partitions_ensure(first: date, last: date, *, alias: str = "default") -> int:
    """Create the partitions of every day from `first` to `last` that lacks one; return how many.

    Each day is its own transaction (both tables), so a day that cannot get its lock
    now leaves the others done.
    """
    connection = connections[alias]
    created = 0
    with connection.cursor() as cursor:
        existing = {table: set(partition_days(cursor, table)) for table in TABLES}
    day = first
    while day <= last:
        missing = [table for table in TABLES if day not in existing[table]]
        if missing:
            try:
                with transaction.atomic(using=alias), connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                    for table in missing:
                        _day_create(cursor, table, day)
            except DatabaseError as error:
                # A lock not granted in time, or a row routed to the default partition
                # between the move and the attach: the next run tries again.
                logger.warning("Partitions: %s not created now (%s)", day, error)
            else:
                created += len(missing)
        day += timedelta(days=1)
    return created


def partitions_maintain(*, now: datetime, alias: str = "default") -> int:
    """Create the days ahead and give rows waiting in the default partition their days."""
    connection = connections[alias]
    today = now.astimezone(UTC).date()
    created = partitions_ensure(
        today - timedelta(days=1), today + timedelta(days=AHEAD_DAYS), alias=alias
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT min({COLUMN}), max({COLUMN}) FROM "{TABLES[0]}_default"'  # noqa: S608
        )
        oldest, newest = cursor.fetchone()
    if oldest is not None:
        # Rows in the default partition: old days written before their partition existed
        # (a restore, seed_history) or a sender's clock far ahead. Bounded to the
        # retention period and the days ahead, so a wild clock cannot create years.
        first = max(oldest.astimezone(UTC).date(), today - timedelta(days=400))
        last = min(newest.astimezone(UTC).date(), today + timedelta(days=AHEAD_DAYS))
        if first <= last:
            created += partitions_ensure(first, last, alias=alias)
    if created:
        logger.info("Partitions: created %d day partition(s)", created)
    return created


def _rows(cursor, name: str) -> int:
    """Count a partition's rows: the planner's estimate once analyzed, else an exact count."""
    cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [name])
    estimate = cursor.fetchone()[0]
    if estimate >= 0:
        return estimate
    cursor.execute(f'SELECT count(*) FROM "{name}"')  # noqa: S608 (a partition's own name)
    return cursor.fetchone()[0]


def partitions_retire(before: datetime, *, alias: str = "default") -> int:
    """Drop the day partitions (reports and triggers) that end at or before `before`.

    A day that still holds an unprocessed report stays (the sweep owes it a count);
    it goes on a later run. Return the number of reports retired (the planner's
    estimate for an analyzed partition: counting 86 M rows would take longer than
    dropping them).
    """
    connection = connections[alias]
    retired = 0
    with connection.cursor() as cursor:
        days = [d for d in partition_days(cursor) if _bounds(d)[1] <= before]
    for day in days:
        report_part = partition_name(TABLES[0], day)
        try:
            with transaction.atomic(using=alias), connection.cursor() as cursor:
                cursor.execute(
                    f'SELECT EXISTS (SELECT 1 FROM "{report_part}" '  # noqa: S608
                    "WHERE processed_at IS NULL)"
                )
                if cursor.fetchone()[0]:
                    logger.warning("Partitions: %s keeps an unprocessed report; kept", day)
                    continue
                rows = _rows(cursor, report_part)
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                names = ", ".join(f'"{partition_name(t, day)}"' for t in reversed(TABLES))
                cursor.execute(f"DROP TABLE IF EXISTS {names}")
        except DatabaseError as error:
            logger.warning("Partitions: %s not retired now (%s)", day, error)
            continue
        retired += rows
        logger.info("Partitions: retired %s (%d report(s))", day, rows)
    return retired
