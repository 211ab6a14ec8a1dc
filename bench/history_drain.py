"""The drain's and the sweep's cost per trigger on a year of history against an empty database.

    .venv/bin/python bench/history_drain.py --empty postgres://…/<empty db> \\
        --full postgres://…/<year db> --rounds 8 --reports 500

One process per database (each its own Django and DATABASE_URL), asked in turn, the
order swapped every round, so a noisy neighbour slows both alike. Each round records
`--reports` single-trigger reports through the real ingest (`report_ingest`, not
timed), then counts them with the worker's drain (`reports_drain`) and runs the beat's
sweep (`sweep`) ten times. The cost is CPU: the Python process's own (`time.process_time`)
plus its PostgreSQL backend's (from /proc/<pid>/stat, so run it on the database's
machine as a user who may read it), per trigger for the drain and per call for the
sweep; wall time is printed alongside. It writes into both databases (the reports it
counts, one open incident of action 0001) and purges the broker database of the pages
and pushes those queued.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")


SWEEPS = 10


def backend_cpu(pid: int) -> float:
    """Return a PostgreSQL backend's user + system CPU seconds so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve():
    """Answer the parent: one JSON request per stdin line, one answer each."""
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    import django

    django.setup()
    from django.db import connection

    from incidents.counting.drain import reports_drain
    from incidents.counting.sweep import sweep
    from incidents.intake.ingest import report_ingest
    from incidents.models import Integration

    integration = Integration.objects.get(name="demo")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()

    def cost(work):
        cpu, db, wall = time.process_time(), backend_cpu(backend), time.perf_counter()
        result = work()
        return result, {
            "cpu": time.process_time() - cpu,
            "db_cpu": backend_cpu(backend) - db,
            "wall": time.perf_counter() - wall,
        }

    for line in sys.stdin:
        request = json.loads(line)
        for _ in range(request["reports"]):
            report_ingest(
                integration=integration,
                triggers=[{"service": "login", "code": "503"}],
                payload={"gatilhos": [{"servico": "login", "retorno": "503"}]},
            )
        counted, drain = cost(lambda: reports_drain(until=0.0))
        # A sweep is a few milliseconds: ten of them, so /proc's 10 ms ticks average out.
        _due, swept = cost(lambda: [sweep() for _ in range(SWEEPS)])
        swept = {k: v / SWEEPS for k, v in swept.items()}
        answers.write(json.dumps({"counted": counted, "drain": drain, "sweep": swept}) + "\n")
        answers.flush()


class Side:
    def __init__(self, database_url: str):
        env = {**os.environ, "DATABASE_URL": database_url, "CXHUB_DRAIN_GATHER_SECONDS": "0"}
        self.process = subprocess.Popen(  # noqa: S603 (this script, its own arguments)
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )

    def ask(self, **request) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the drain process stopped (exit {self.process.wait()})")
        return json.loads(line)

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--empty")
    parser.add_argument("--full")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    sides = {"empty": Side(args.empty), "full": Side(args.full)}
    rounds = {"empty": [], "full": []}
    try:
        # One round each first: the incident opens and pages (not the steady cost).
        for side in sides.values():
            side.ask(reports=args.reports)
        for n in range(args.rounds):
            for key in ("empty", "full") if n % 2 == 0 else ("full", "empty"):
                answer = sides[key].ask(reports=args.reports)
                if answer["counted"] < args.reports:
                    raise SystemExit(f"{key}: counted {answer['counted']} of {args.reports}")
                rounds[key].append(answer)
                print(key, json.dumps(answer), flush=True)
    finally:
        for side in sides.values():
            side.close()
    summary = {}
    for key, answers in rounds.items():
        # A drain also counts what an earlier round left for later (a stateful sender's
        # ordered reports): the cost is per report it counted.
        drain = [(a["drain"]["cpu"] + a["drain"]["db_cpu"]) / a["counted"] for a in answers]
        sweep = [a["sweep"]["cpu"] + a["sweep"]["db_cpu"] for a in answers]
        summary[key] = {
            "drain_cpu_ms_per_trigger": statistics.median(drain) * 1000,
            "drain_wall_ms_per_trigger": statistics.median(
                a["drain"]["wall"] / a["counted"] for a in answers
            )
            * 1000,
            "drain_db_share": statistics.median(
                a["drain"]["db_cpu"] / max(a["drain"]["cpu"] + a["drain"]["db_cpu"], 1e-9)
                for a in answers
            ),
            "sweep_cpu_ms": statistics.median(sweep) * 1000,
            "sweep_wall_ms": statistics.median(a["sweep"]["wall"] for a in answers) * 1000,
        }
    for name in summary["empty"]:
        e, f = summary["empty"][name], summary["full"][name]
        print(f"{name:<28} empty {e:8.3f}  full {f:8.3f}  ratio {f / e if e else 0:5.2f}")
    if args.json:
        args.json.write_text(json.dumps({"rounds": rounds, "summary": summary}, indent=1))
    import django

    django.setup()
    from cxhub.celery import app

    app.control.purge()


if __name__ == "__main__":
    main()
