"""Benchmark GET /api/v1/status against GET /healthz on the same gunicorn.

    .venv/bin/python bench/status_api.py [--seconds 5] [--rounds 2]

Migrates a throwaway SQLite database in a temporary folder, loads the demo with an
open login incident past its push threshold (so the status is "impacted" and
the body is the real one), starts gunicorn (one sync worker per core), and loads
both URLs with `wrk` in alternating rounds, so background load on a shared
machine hits both alike. Prints requests/s, p50 / p99 and the ratio; exits
non-zero on an error response or a ratio under 0.8.
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
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
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
        server = Gunicorn(tmp / "gunicorn.log", env, workers=os.cpu_count() or 2, threads=1)
        server.start()
        try:
            results = {"healthz": [], "status": []}
            urls = {
                "healthz": f"{server.url}/healthz",
                "status": f"{server.url}/api/v1/status?locale=en",
            }
            body = subprocess.run(  # noqa: S603
                ["curl", "-sf", urls["status"]],  # noqa: S607
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            assert '"impacted":true' in body, body
            for _ in range(args.rounds):
                for name, url in urls.items():
                    results[name].append(
                        wrk(url, seconds=args.seconds, connections=args.connections, tmp=tmp)
                    )
        finally:
            server.stop()
    best = {name: max(runs) for name, runs in results.items()}
    print("| measure | /healthz | /api/v1/status?locale=en |")
    print("| --- | --- | --- |")
    print(
        "| requests/s (best of {}) | {:,.0f} | {:,.0f} |".format(
            args.rounds, best["healthz"][0], best["status"][0]
        )
    )
    print(
        "| p50 / p99 ms | {:.1f} / {:.1f} | {:.1f} / {:.1f} |".format(
            *best["healthz"][1:], *best["status"][1:]
        )
    )
    for name, runs in results.items():
        print(f"| every round, {name} | " + ", ".join(f"{r[0]:,.0f}" for r in runs) + " | |")
    ratio = best["status"][0] / best["healthz"][0]
    print(f"| ratio status / healthz | {ratio:.2f} | target >= 0.8 |")
    return 0 if ratio >= 0.8 else 1


if __name__ == "__main__":
    sys.exit(main())
