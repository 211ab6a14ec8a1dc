"""Counting throughput with 1, 2 and 4 worker processes on the same stored storm.

    createdb -h 127.0.0.1 -U postgres cxhub_workers
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cxhub_workers \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/7 .venv/bin/python bench/workers.py

For each shape (`one`: every trigger meets the one incident of action 0001; `fifty`:
triggers spread over 50 actions, 50 incidents) and each process count, it records
`--reports` single-trigger reports through the real ingest (`report_ingest`), then
starts that many processes at the same instant, each running the worker's drain
(`reports_drain`, what the `reports` queue's task does) until nothing is waiting.
The rate is reports counted / (last `processed_at` - start), from the rows. Between
runs the incidents are resolved, so each run opens fresh ones. It purges the broker
database it published to (the sends the pages queued) at the end.
"""

import argparse
import os
import subprocess
import sys
import time
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
start = {start}
time.sleep(max(0.0, start - time.time()))
print(reports_drain(until=0.0), flush=True)
"""


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


def run(processes: int, reports: int) -> tuple[float, float]:
    from django.db.models import Max

    from incidents.models import Report

    start = time.time() + 4.0  # every process imports Django first
    code = WORKER.format(root=str(ROOT), start=start)
    children = [
        subprocess.Popen(  # noqa: S603 (this interpreter, this script's own code)
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
        )
        for _ in range(processes)
    ]
    counted = []
    for child in children:
        out, _ = child.communicate(timeout=600)
        counted.append(int(out.strip().splitlines()[-1]))
    waiting = Report.objects.filter(processed_at__isnull=True).count()
    if waiting or sum(counted) != reports:
        sys.exit(f"{waiting} reports left uncounted; the processes counted {counted}")
    last = Report.objects.aggregate(last=Max("processed_at"))["last"].timestamp()
    return reports / (last - start), last - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=4000)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--shapes", default="one,fifty")
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from cxhub.celery import app
    from incidents.models import Incident

    if connection.vendor != "postgresql":
        sys.exit("bench/workers.py measures PostgreSQL row locks: set DATABASE_URL.")
    call_command("migrate", verbosity=0)
    call_command("demo", quiet=True)
    reports = max(100, min(args.reports, 50_000))
    for shape in args.shapes.split(","):
        for processes in [int(p) for p in args.processes.split(",")]:
            backlog(shape, reports)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE incidents_report")
            rate, took = run(processes, reports)
            incidents = Incident.objects.exclude(status=Incident.Status.RESOLVED).count()
            print(
                f"{shape:>5} action(s), {processes} process(es): {reports:,} reports in "
                f"{took:.2f} s = {rate:,.0f} reports/s ({incidents} open incident(s))",
                flush=True,
            )
    app.control.purge()


if __name__ == "__main__":
    main()
