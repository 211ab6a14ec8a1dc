"""Benchmark the status reads against GET /healthz on the same gunicorn.

    .venv/bin/python bench/status_api.py [--seconds 5] [--rounds 2]

Migrates a throwaway SQLite database in a temporary folder, loads the demo with an
open login incident past its push threshold (so the status is "impacted" and
the body is the real one) and a maintenance window ahead, starts gunicorn (one
sync worker per core), and loads /healthz, /api/v1/status, the status page and
both Open Finance discovery feeds with `wrk` in alternating rounds, so
background load on a shared machine hits them alike. Prints requests/s,
p50 / p99 and each ratio to /healthz; exits non-zero on an error response or a
ratio under 0.8.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import wrk  # noqa: E402
from tests.processes import Gunicorn  # noqa: E402

SETUP = """
from django.utils import timezone
from actions.models import Action
from incidents.lifecycle.escalation import policy_of
from incidents.models import Incident
action = Action.objects.get(code="0001")
now = timezone.now()
Incident.objects.get_or_create(action=action, status="open", defaults=dict(
    opened_at=now, last_occurrence_at=now, occurrences=10, policy=policy_of(action)))
from datetime import timedelta
from incidents.models import MaintenanceWindow
MaintenanceWindow.objects.get_or_create(reason="Troca de certificado", defaults=dict(
    service=action.rules.first().service, starts_at=now + timedelta(days=2),
    ends_at=now + timedelta(days=2, hours=2), status_visible=True))
"""
URLS = {
    "healthz": "/healthz",
    "status": "/api/v1/status?locale=en",
    "page": "/status/?lang=pt-br",
    "ofb status": "/open-banking/discovery/v2/status",
    "ofb outages": "/open-banking/discovery/v2/outages",
}
# CPU per answer in one process (Django's test client, the whole middleware stack), for a
# machine whose other load makes wrk's rates noise: only this process's CPU time counts.
IN_PROCESS = """
import time
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
for name, path in {urls!r}.items():
    for _ in range(50):
        assert client.get(path).status_code == 200  # warm: the snapshot is built
    start = time.process_time()
    for _ in range({n}):
        client.get(path)
    print("BENCH", name, "=", (time.process_time() - start) / {n} * 1e6)
"""
# A body each answer must hold: the real, impacted one, not an empty or error answer.
EXPECT = {
    "status": '"impacted":true',
    "page": "Indisponível desde",
    "ofb status": '"code":"UNAVAILABLE"',
    "ofb outages": '"duration":"PT2H"',
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--in-process",
        type=int,
        default=0,
        metavar="N",
        help="instead of wrk: CPU microseconds per answer over N in-process requests",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cxhub-status-bench-") as folder:
        tmp = Path(folder)
        env = {
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "CXHUB_VAR_DIR": str(tmp / "var"),
            "SECRET_KEY": "bench-only",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }
        run_env = {**os.environ, **env}
        manage = [sys.executable, "manage.py"]
        for command in (["migrate", "-v0"], ["demo", "--quiet"], ["shell", "-c", SETUP]):
            subprocess.run([*manage, *command], cwd=ROOT, env=run_env, check=True)  # noqa: S603
        if args.in_process:
            return in_process(manage, run_env, args.in_process)
        server = Gunicorn(tmp / "gunicorn.log", env, workers=os.cpu_count() or 2, threads=1)
        server.start()
        try:
            results = {name: [] for name in URLS}
            urls = {name: f"{server.url}{path}" for name, path in URLS.items()}
            for name, text in EXPECT.items():
                body = subprocess.run(  # noqa: S603
                    ["curl", "-sf", urls[name]],  # noqa: S607
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                assert text in body, (name, body[:500])
                print(f"{name}: {len(body.encode()):,} bytes", file=sys.stderr)
            for _ in range(args.rounds):
                for name, url in urls.items():
                    results[name].append(
                        wrk(url, seconds=args.seconds, connections=args.connections, tmp=tmp)
                    )
        finally:
            server.stop()
    best = {name: max(runs) for name, runs in results.items()}
    heading = f"requests/s (best of {args.rounds})"
    print(f"| URL | {heading} | p50 / p99 ms | every round | ratio to /healthz |")
    print("| --- | --- | --- | --- | --- |")
    ratios = {}
    for name, path in URLS.items():
        rate, p50, p99 = best[name]
        ratios[name] = rate / best["healthz"][0]
        rounds = ", ".join(f"{r[0]:,.0f}" for r in results[name])
        ratio = "" if name == "healthz" else f"**{ratios[name]:.2f}**"
        print(f"| `{path}` | {rate:,.0f} | {p50:.1f} / {p99:.1f} | {rounds} | {ratio} |")
    print("target: every ratio >= 0.8 (wrk refuses a run with an error answer)")
    return 0 if min(ratios.values()) >= 0.8 else 1


def in_process(manage, run_env, n) -> int:
    """Print CPU microseconds per answer of each URL, and its ratio to /healthz's."""
    code = IN_PROCESS.format(urls=URLS, n=n)
    out = subprocess.run(  # noqa: S603
        [*manage, "shell", "-c", code], cwd=ROOT, env=run_env, check=True, capture_output=True
    ).stdout.decode()
    cost = {}
    for line in out.splitlines():
        if line.startswith("BENCH "):
            name, _, micros = line.removeprefix("BENCH ").rpartition(" = ")
            cost[name] = float(micros)
    print(f"| URL | CPU µs per answer (in-process, {n} requests) | ratio to /healthz |")
    print("| --- | --- | --- |")
    for name, path in URLS.items():
        ratio = "" if name == "healthz" else f"**{cost['healthz'] / cost[name]:.2f}**"
        print(f"| `{path}` | {cost[name]:,.0f} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
