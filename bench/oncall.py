"""Benchmark the on-call schedule: a 10-layer final schedule over a year, and "who is on call".

    .venv/bin/python bench/oncall.py [--runs 20]
    DATABASE_URL=postgres://... .venv/bin/python bench/oncall.py

In-process: the pure final schedule (`oncall.final.final_schedule`) of a schedule
in Europe/Berlin with 10 layers (weekly, daily, 12-hour and hourly rotations of
5-8 people, business-hours, night and weekend restrictions) and 100 overrides,
over 365 days; best and median of `--runs`. Target: < 200 ms.

Then with a database (a throwaway SQLite file unless DATABASE_URL is set): the
same schedule as rows, its shifts materialized for the horizon, and the lookup a
page makes (`oncall.selectors.oncall_at`): it must be one query, and its plan
(EXPLAIN) is printed. Exits non-zero when a target is missed.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from oncall import final  # noqa: E402

ZONE = "Europe/Berlin"
START = datetime(2026, 1, 5, 9, tzinfo=ZoneInfo(ZONE))  # a Monday
BUSINESS = final.Restriction(final.WEEK, clock(9), timedelta(days=4, hours=8), 0)
NIGHTS = final.Restriction(final.DAY, clock(20), timedelta(hours=12))
WEEKEND = final.Restriction(final.WEEK, clock(18), timedelta(days=2, hours=15), 4)

# (rotation, custom length, participants, restrictions), bottom layer first.
LAYERS = [
    (final.WEEKLY, None, 8, ()),
    (final.DAILY, None, 6, ()),
    (final.CUSTOM, timedelta(hours=12), 6, ()),
    (final.WEEKLY, None, 5, (BUSINESS,)),
    (final.DAILY, None, 5, (NIGHTS,)),
    (final.WEEKLY, None, 5, (WEEKEND,)),
    (final.CUSTOM, timedelta(days=2), 7, (BUSINESS,)),
    (final.HOURLY, None, 5, (BUSINESS,)),
    (final.DAILY, None, 6, (NIGHTS, WEEKEND)),
    (final.WEEKLY, None, 5, (final.Restriction(final.DAY, clock(12), timedelta(hours=2)),)),
]
OVERRIDES = 100


def spec_layers(people):
    """Return the benchmark's layers as plain data, participants taken from `people`."""
    layers = []
    for index, (rotation, length, count, restrictions) in enumerate(LAYERS):
        members = tuple(people[(index + k) % len(people)] for k in range(count))
        layers.append(
            final.Layer(rotation, START, members, length, None, restrictions, key=index + 1)
        )
    return layers


def spec_overrides(people):
    return [
        final.Override(
            people[i % len(people)],
            START + timedelta(days=3 * i, hours=2),
            START + timedelta(days=3 * i, hours=8),
            key=i,
        )
        for i in range(OVERRIDES)
    ]


def pure(runs: int) -> float:
    people = list(range(1, 21))
    layers, overrides = spec_layers(people), spec_overrides(people)
    end = START + timedelta(days=365)
    timings, result = [], []
    for _ in range(runs):
        begin = time.perf_counter()
        result = final.final_schedule(
            layers=layers, overrides=overrides, time_zone=ZONE, start=START, end=end
        )
        timings.append((time.perf_counter() - begin) * 1000)
    gaps = final.gaps(result, START, end)
    print(
        f"final schedule, 10 layers + {OVERRIDES} overrides over 365 days: "
        f"{len(result)} intervals, {len(gaps)} gaps"
    )
    print(f"  best {min(timings):.1f} ms, median {statistics.median(timings):.1f} ms ({runs} runs)")
    return min(timings)


def with_database() -> bool:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from oncall import selectors, services
    from oncall.models import Layer, LayerParticipant, Restriction, Schedule, Shift

    call_command("migrate", verbosity=0)
    Schedule.objects.filter(name="bench-oncall").delete()
    people = [User.objects.get_or_create(username=f"bench-oncall-{i}")[0].pk for i in range(1, 21)]
    schedule = Schedule.objects.create(name="bench-oncall", time_zone=ZONE)
    now = timezone.now()
    for spec in spec_layers(people):
        layer = Layer.objects.create(
            schedule=schedule,
            order=spec.key,
            rotation_type=spec.rotation,
            rotation_length=spec.length,
            start=START,
        )
        LayerParticipant.objects.bulk_create(
            LayerParticipant(layer=layer, user_id=user, position=i)
            for i, user in enumerate(spec.participants)
        )
        Restriction.objects.bulk_create(
            Restriction(
                layer=layer,
                kind=r.kind,
                start_day=r.start_day,
                start_time=r.start_time,
                duration=r.duration,
            )
            for r in spec.restrictions
        )
    try:
        begin = time.perf_counter()
        written = services.schedule_shifts_refresh(schedule.pk, now=now)
        refresh_ms = (time.perf_counter() - begin) * 1000
        schedule.refresh_from_db()
        at = now + timedelta(days=10, hours=3)
        with CaptureQueriesContext(connection) as queries:
            people_now = selectors.oncall_at(schedule, at)
        timings = []
        for i in range(200):
            begin = time.perf_counter()
            selectors.oncall_at(schedule, now + timedelta(minutes=37 * i))
            timings.append((time.perf_counter() - begin) * 1000)
        plan = (
            Shift.objects.filter(schedule=schedule, end__gt=at, start__lte=at)
            .order_by("start", "pk")
            .explain()
        )
        days = services.settings.CXHUB_ONCALL_HORIZON.days
        print(
            f"{connection.vendor}: {written} shifts materialized for {days} days "
            f"in {refresh_ms:.0f} ms"
        )
        print(
            f"  oncall_at: {len(queries)} query, {[u.username for u in people_now]}; "
            f"median {statistics.median(timings):.2f} ms, "
            f"p99 {sorted(timings)[int(len(timings) * 0.99) - 1]:.2f} ms (200 lookups)"
        )
        print("  plan:\n    " + plan.replace("\n", "\n    "))
        for query in queries:
            print("  sql: " + query["sql"])
        return len(queries) == 1 and "shift_oncall_at" in plan
    finally:
        Schedule.objects.filter(pk=schedule.pk).delete()
        User.objects.filter(username__startswith="bench-oncall-").delete()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    best = pure(args.runs)
    folder = None
    if "DATABASE_URL" not in os.environ:
        folder = tempfile.TemporaryDirectory(prefix="cxhub-oncall-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(folder.name) / 'db.sqlite3'}"
        os.environ["CXHUB_VAR_DIR"] = str(Path(folder.name) / "var")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    indexed = with_database()
    ok = best < 200 and indexed
    print(f"targets: final schedule < 200 ms: {best < 200}; one indexed query: {indexed}")
    if folder is not None:
        folder.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
