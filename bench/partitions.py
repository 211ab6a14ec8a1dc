"""Time retiring one day by dropping its partitions against the SQL delete of the same day.

    createdb -h 127.0.0.1 -U postgres -T cxhub_scale cxhub_scale_partitions
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cxhub_scale_partitions \\
        .venv/bin/python bench/partitions.py [--days 3]

On a seeded database migrated to partitioned reports and triggers (incidents 0013;
it retires days: use a copy). It runs VACUUM ANALYZE first (on a machine without
autovacuum the planner would otherwise guess), then, for each of the `--days` oldest
days: the pre-partition retention (`DELETE` in slices of 20,000 reports and their
triggers, told the day so it reads only that day's partitions) inside a transaction
that is rolled back, then the partition manager's
retirement of the same day (one `DROP TABLE` of its two partitions). Meanwhile a
second connection records a processed report into today's partition in a loop and
notes its slowest insert: what ingest feels of each operation's locks.
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")

MARK = "bench-partitions"


class Ingest(threading.Thread):
    """Record one report at a time through its own connection; keep the slowest insert."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.window = threading.Event()
        self.slowest = 0.0
        self.count = 0

    def run(self):
        from django.db import connection

        with connection.cursor() as cursor:
            while not self.stop.is_set():
                started = time.perf_counter()
                cursor.execute(
                    "INSERT INTO incidents_report (id, received_at, payload, processed_at, "
                    "ordered) VALUES (gen_random_uuid(), now(), %s, now(), false)",
                    [f'{{"bench": "{MARK}"}}'],
                )
                took = time.perf_counter() - started
                if self.window.is_set():
                    self.slowest = max(self.slowest, took)
                    self.count += 1
                time.sleep(0.002)
        connection.close()

    def measure(self):
        self.slowest, self.count = 0.0, 0
        self.window.set()

    def result(self) -> str:
        self.window.clear()
        return f"slowest concurrent insert {self.slowest * 1000:.0f} ms of {self.count}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3)
    args = parser.parse_args()
    import django

    django.setup()
    from django.db import connection, transaction

    from incidents.counting import partitions
    from incidents.counting.retention import _reports_delete_by_time

    if not partitions.is_partitioned():
        sys.exit("bench/partitions.py needs PostgreSQL migrated to incidents 0013.")
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        print(f"autovacuum: {cursor.fetchone()[0]}")
        started = time.perf_counter()
        cursor.execute("VACUUM ANALYZE incidents_report")
        cursor.execute("VACUUM ANALYZE incidents_trigger")
        print(f"VACUUM ANALYZE of reports and triggers: {time.perf_counter() - started:.1f} s")
        cursor.execute(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(relid))) "
            "FROM pg_partition_tree('incidents_report') UNION ALL "
            "SELECT pg_size_pretty(sum(pg_total_relation_size(relid))) "
            "FROM pg_partition_tree('incidents_trigger')"
        )
        sizes = [row[0] for row in cursor.fetchall()]
        print(f"reports {sizes[0]}, triggers {sizes[1]}")
        days = partitions.partition_days(cursor)
    ingest = Ingest()
    ingest.start()
    try:
        for day in days[: max(1, min(args.days, 30))]:
            end = partitions._bounds(day)[1]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT count(*), pg_size_pretty(pg_total_relation_size(%s) + "  # noqa: S608
                    f"pg_total_relation_size(%s)) FROM "
                    f'"{partitions.partition_name("incidents_report", day)}"',
                    [
                        partitions.partition_name("incidents_report", day),
                        partitions.partition_name("incidents_trigger", day),
                    ],
                )
                rows, size = cursor.fetchone()
            print(f"{day}: {rows:,} reports and as many triggers, {size} on disk")

            ingest.measure()
            started = time.perf_counter()
            with transaction.atomic():
                deleted = _reports_delete_by_time(end, partitioned=True)
                took = time.perf_counter() - started
                transaction.set_rollback(True)
            print(
                f"  SQL delete (rolled back): {deleted:,} reports in {took:.2f} s "
                f"= {deleted / max(took, 1e-9):,.0f}/s; {ingest.result()}"
            )

            ingest.measure()
            started = time.perf_counter()
            retired = partitions.partitions_retire(end)
            took = time.perf_counter() - started
            print(
                f"  DROP of the day's partitions: {retired:,} reports in {took:.3f} s; "
                f"{ingest.result()}"
            )
    finally:
        ingest.stop.set()
        ingest.join()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM incidents_report WHERE payload->>'bench' = %s", [MARK])


if __name__ == "__main__":
    main()
