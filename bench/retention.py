"""Time retention retiring the oldest days of a seeded database (it deletes them: use a copy).

    createdb -h 127.0.0.1 -U postgres -T cxhub_scale cxhub_scale_retention
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cxhub_scale_retention \\
        .venv/bin/python bench/retention.py --days 3

For each of the `--days` oldest days it runs the retention job with a cutoff just past
that day, so each run retires one day, and prints the rows removed and the time. With
`--orm` it first retires one day the way retention did before (Django's delete
collector, slices of 5,000) for comparison. Then it prints the size of the report and
trigger tables (a DELETE leaves dead rows behind until VACUUM; it says so).
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")


def oldest_day():
    from django.db.models import Min

    from incidents.models import Report

    oldest = Report.objects.aggregate(first=Min("received_at"))["first"]
    return oldest.replace(hour=0, minute=0, second=0, microsecond=0) if oldest else None


def orm_prune(cutoff) -> int:
    """Retire what the pre-issue-22 retention did: ORM delete in slices of 5,000 ids."""
    from incidents.models import Report

    old = Report.objects.filter(processed_at__isnull=False, received_at__lt=cutoff)
    removed = 0
    while ids := list(old.values_list("id", flat=True)[:5000]):
        Report.objects.filter(id__in=ids).delete()
        removed += len(ids)
    return removed


def sizes() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)), n_dead_tup "
            "FROM pg_class JOIN pg_stat_user_tables USING (relname) "
            "WHERE relname IN ('incidents_report', 'incidents_trigger')"
        )
        return ", ".join(f"{n} {s} ({d:,} dead rows)" for n, s, d in cursor.fetchall())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--orm", action="store_true", help="Retire one day the old way first.")
    parser.add_argument("--span", type=int, default=1, help="Days each run retires (1).")
    parser.add_argument("--slice-rows", type=int, help="Retention's SLICE_ROWS (20,000).")
    args = parser.parse_args()
    import django

    django.setup()
    from django.db import connection

    from incidents.counting import retention
    from incidents.tasks import retention_prune

    if args.slice_rows:
        retention.SLICE_ROWS = args.slice_rows

    if connection.vendor != "postgresql":
        sys.exit("bench/retention.py measures PostgreSQL: set DATABASE_URL to a seeded copy.")
    print(f"before: {sizes()}")
    runs = [("ORM, slices of 5,000", orm_prune)] if args.orm else []
    runs += [("set-based SQL", None)] * max(1, min(args.days, 30))
    for name, prune in runs:
        day = oldest_day()
        if day is None:
            break
        cutoff = day + timedelta(days=max(1, min(args.span, 366)))
        started = time.perf_counter()
        if prune:
            removed = prune(cutoff)
        else:
            removed = retention_prune(now=cutoff, trigger_days=0, delivery_days=3650)["reports"]
        took = time.perf_counter() - started
        print(
            f"{name}: retired {day:%Y-%m-%d} + {(cutoff - day).days} day(s): {removed:,} reports "
            f"(and their triggers) in {took:.2f} s = {removed / took:,.0f}/s",
            flush=True,
        )
    print(f"after: {sizes()}")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM incidents_report")
        cursor.execute("VACUUM incidents_trigger")
    print(f"VACUUM of the two tables: {time.perf_counter() - started:.1f} s; after: {sizes()}")


if __name__ == "__main__":
    main()
