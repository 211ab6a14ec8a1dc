"""Counting throughput with 1, 2 and 4 worker processes on the same stored storm.

    createdb -h 127.0.0.1 -U postgres cxhub_workers
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cxhub_workers \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/7 CACHE_URL=rediscache://127.0.0.1:6379/8 \\
    .venv/bin/python bench/workers.py

For each shape (`one`: every trigger meets the one incident of action 0001; `fifty`:
triggers spread over 50 actions, 50 incidents) and each process count, it records
`--reports` single-trigger reports through the real ingest (`report_ingest`), then
starts that many processes at the same instant, each running the worker's drain
(`reports_drain`, what the `reports` queue's task does) until nothing is waiting.
The rate is reports counted / (the last process's exit - start): a batch stamps its
reports `processed_at` when it claims them, before its counting, evaluations and pushes, so
the last stamp would leave the last batches' work out. Between
runs the incidents are resolved, so each run opens fresh ones, and the tables the
drain touches are `VACUUM ANALYZE`d (a server with autovacuum off keeps every dead
row otherwise). While the processes run, `pg_stat_activity` is sampled every 20 ms:
the share of their samples waiting on a lock (and on which statement) says how much
of the time a process queued behind another. `--trees A,B` runs the drain of other
checkouts of this repository too (e.g. main's), each on the same storm, so a change
is measured against the code before it in one run. It purges the broker database it
published to (the sends the pages queued) at the end.
"""

import argparse
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")
# One drain per process for the whole run: no re-ring, no Celery in between.
os.environ.setdefault("CXHUB_DRAIN_SECONDS", "600")

WORKER = """
import os, sys, time
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")
import django
django.setup()
from django.db import connection
from incidents.tasks import reports_drain
connection.ensure_connection()
with connection.cursor() as cursor:
    cursor.execute("SELECT pg_backend_pid()")
    print(cursor.fetchone()[0], flush=True)
start = {start}
time.sleep(max(0.0, start - time.time()))
print(reports_drain(until=0.0), flush=True)
"""


# What a drain reads and writes (autovacuum may be off: dead rows stay until vacuumed).
VACUUMED = (
    "incidents_report",
    "incidents_trigger",
    "incidents_incident",
    "incidents_integration",
    "incidents_timelineevent",
)


def backlog(shape: str, reports: int):
    from django.utils import timezone

    from actions.models import Action
    from incidents.intake.ingest import report_ingest
    from incidents.models import Incident, Integration
    from support.history_seed import HistorySize, playbooks_create

    # Resolved long ago (past any flap window), so each run opens fresh incidents.
    Incident.objects.exclude(status=Incident.Status.RESOLVED).update(
        status=Incident.Status.RESOLVED, resolved_at=timezone.now() - timezone.timedelta(days=1)
    )
    integration = Integration.objects.get(name="demo")
    if shape == "one":
        pairs = [("login", "503")]
    else:
        if not Action.objects.filter(code="S049").exists():
            playbooks_create(HistorySize(actions=50, services=20))
        pairs = [
            (rule.service.slug, rule.code)
            for action in Action.objects.filter(code__startswith="S").order_by("code")
            for rule in action.rules.select_related("service")
        ]
    for n in range(reports):
        service, code = pairs[n % len(pairs)]
        report_ingest(
            integration=integration,
            triggers=[{"service": service, "code": code}],
            payload={"gatilhos": [{"servico": service, "retorno": code}]},
        )


class WaitSampler(threading.Thread):
    """Sample what the drain processes' backends wait on every 20 ms (a connection of its own)."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids, self.samples, self.done = set(pids), Counter(), threading.Event()

    def run(self):
        from django.db import connections

        connection = connections.create_connection("default")
        try:
            with connection.cursor() as cursor:
                while not self.done.wait(0.02):
                    cursor.execute(
                        "SELECT pid, state, wait_event_type, wait_event, left(query, 40) "
                        "FROM pg_stat_activity WHERE datname = current_database()"
                    )
                    for pid, state, kind, event, query in cursor.fetchall():
                        if pid in self.pids:
                            self.samples[_what(state, kind, event, query)] += 1
        finally:
            connection.close()

    def shares(self) -> str:
        total = sum(self.samples.values()) or 1
        return ", ".join(f"{what} {n / total:.0%}" for what, n in self.samples.most_common(4))


def _what(state, kind, event, query) -> str:
    if kind == "Lock":
        table = query.split('"')[1] if '"' in query else query
        return f"lock wait ({query.split()[0]} {table})"
    if state == "active":
        return "working in PostgreSQL"
    if state and state.startswith("idle in transaction"):
        return "in Python, transaction open"
    return "in Python, no transaction"


class Sweeper(threading.Thread):
    """Run the sweep every CXHUB_SWEEP_SECONDS while the drains run, as beat does.

    Besides its safety net the sweep notes the oldest waiting report, where the drains'
    claims start (incidents.counting.waiting); with a shared cache (CACHE_URL) the
    drain processes read that note, as a worker fleet does in production.
    """

    def __init__(self):
        super().__init__(daemon=True)
        self.done = threading.Event()

    def run(self):
        from django.conf import settings
        from django.db import connection

        from incidents.counting.sweep import sweep

        try:
            while True:
                sweep()
                if self.done.wait(settings.CXHUB_SWEEP_SECONDS):
                    return
        finally:
            connection.close()


def run(processes: int, reports: int, tree: Path) -> tuple[float, float, str]:
    from incidents.models import Report

    start = time.time() + 4.0  # every process imports Django first
    code = WORKER.format(root=str(tree), start=start)
    children = [
        subprocess.Popen(  # noqa: S603 (this interpreter, this script's own code)
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            text=True,
            cwd=tree,
            env={**os.environ, "PYTHONPATH": str(tree)},
        )
        for _ in range(processes)
    ]
    pids = [int(child.stdout.readline()) for child in children]
    sampler, sweeper = WaitSampler(pids), Sweeper()
    sampler.start()
    sweeper.start()
    counted = []
    for child in children:
        out, _ = child.communicate(timeout=900)
        counted.append(int(out.strip().splitlines()[-1]))
    ended = time.time()  # every process has committed its last batch and exited
    sampler.done.set()
    sweeper.done.set()
    sampler.join()
    sweeper.join()
    waiting = Report.objects.filter(processed_at__isnull=True).count()
    if waiting or sum(counted) != reports:
        sys.exit(f"{waiting} reports left uncounted; the processes counted {counted}")
    last = ended
    return reports / (last - start), last - start, sampler.shares()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=4000)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--shapes", default="one,fifty")
    parser.add_argument(
        "--fifty-reports", type=int, default=2000, help="reports of the 50-action storm"
    )
    parser.add_argument(
        "--trees", default=".", help="checkouts whose drain to run, comma-separated (. is this one)"
    )
    args = parser.parse_args()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from cxhub.celery import app
    from incidents.models import Incident

    if connection.vendor != "postgresql":
        sys.exit("bench/workers.py measures PostgreSQL row locks: set DATABASE_URL.")
    if "locmem" in settings.CACHES["default"]["BACKEND"]:
        print("No shared cache (CACHE_URL): each drain's claim reads every day's partitions.")
    call_command("migrate", verbosity=0)
    call_command("demo", quiet=True)
    trees = [ROOT if t == "." else Path(t).resolve() for t in args.trees.split(",")]
    for shape in args.shapes.split(","):
        reports = args.reports if shape == "one" else args.fifty_reports
        reports = max(100, min(reports, 50_000))
        for processes in [int(p) for p in args.processes.split(",")]:
            for tree in trees:
                backlog(shape, reports)
                with connection.cursor() as cursor:
                    for table in VACUUMED:
                        cursor.execute(f"VACUUM ANALYZE {table}")
                rate, took, waits = run(processes, reports, tree)
                incidents = Incident.objects.exclude(status=Incident.Status.RESOLVED).count()
                print(
                    f"{shape:>5} action(s), {processes} process(es), {tree.name}: "
                    f"{reports:,} reports in {took:.2f} s = {rate:,.0f} reports/s "
                    f"({incidents} open incident(s)); samples: {waits}",
                    flush=True,
                )
    app.control.purge()


if __name__ == "__main__":
    main()
