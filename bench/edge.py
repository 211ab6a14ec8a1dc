"""The ingest edge against `/healthz`, for this checkout and others, in one run.

    .venv/bin/python bench/edge.py [--seconds 6] [--rounds 2] [--trees OTHER,.]

Starts its own PostgreSQL cluster with the durable defaults (fsync and synchronous
commit on) and Redis on free loopback ports, migrates once, then for each checkout
in `--trees` (`.` is this one; another is e.g. an export of main) starts that
checkout's Procfile `web` line (gunicorn, its worker count, its access log) on a
loopback port and its `worker` line (Celery counting what is recorded), and loads
them with `wrk` (16 connections): `/healthz`, then `POST /api/v1/triggers` with one
trigger per request (the storm's request). The checkouts take turns, `--rounds`
times, so a change in the machine's load falls on each of them. Web CPU per request
is the gunicorn tree's user + system time over the ingest run divided by the
requests answered. It stops everything it started. Not run in CI.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import wrk  # noqa: E402
from tests.processes import (  # noqa: E402
    PostgresCluster,
    RedisServer,
    free_port,
    port_open,
    procfile_commands,
)
from tests.storm import ONE_TRIGGER, cpu_seconds  # noqa: E402
from tests.worker import wait_for  # noqa: E402


class Line:
    """One Procfile line of a checkout, run through a shell in that checkout."""

    def __init__(self, tree: Path, name: str, env: dict, log: Path):
        path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
        self.process = subprocess.Popen(  # noqa: S603 (the checkout's own Procfile)
            ["/bin/sh", "-c", f"exec {procfile_commands(tree / 'Procfile')[name]}"],
            cwd=tree,
            env={**os.environ, **env, "PYTHONPATH": str(tree), "PATH": path},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except OSError:
        return False


def measure(tree: Path, env: dict, tmp: Path, token: str, seconds: int) -> dict:
    port = free_port()
    env = {**env, "CXHUB_WEB_BIND": f"127.0.0.1:{port}", "CXHUB_BEHIND_PROXY": "false"}
    web = Line(tree, "web", env, tmp / f"web-{tree.name}.log")
    worker = Line(tree, "worker", env, tmp / f"worker-{tree.name}.log")
    try:
        base = f"http://127.0.0.1:{port}"
        # The master listens before its workers have imported Django: wait for answers.
        wait_for(lambda: port_open(port) and answers(f"{base}/healthz"), timeout=120, message="web")
        wrk(f"{base}/healthz", seconds=1, tmp=tmp)  # warm every gunicorn worker
        wrk(f"{base}/api/v1/triggers", seconds=1, tmp=tmp, body=ONE_TRIGGER, token=token)
        health, _, health_p50, _ = wrk(f"{base}/healthz", seconds=seconds, tmp=tmp)
        cpu = cpu_seconds(web.process.pid)
        ingest, errors, p50, p99 = wrk(
            f"{base}/api/v1/triggers", seconds=seconds, tmp=tmp, body=ONE_TRIGGER, token=token
        )
        cpu = cpu_seconds(web.process.pid) - cpu
        if not health or not ingest:
            log = (tmp / f"web-{tree.name}.log").read_text()[-3000:]
            raise SystemExit(f"{tree.name}: no 2xx answers ({errors} others); its log:\n{log}")
    finally:
        web.stop()
        worker.stop()
    return {
        "healthz": health,
        "ingest": ingest,
        "errors": errors,
        "p50": p50,
        "p99": p99,
        "cpu_ms": 1000 * cpu / max(1.0, ingest * seconds),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=6, help="wrk duration per run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--trees", default=".", help="checkouts to measure, comma-separated")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    trees = [ROOT if t == "." else Path(t).resolve() for t in args.trees.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="cxhub-edge-"))
    cluster, redis = PostgresCluster(durable=True), RedisServer()
    results = {tree: [] for tree in trees}
    load_before = os.getloadavg()
    try:
        cluster.init().start()
        cluster.createdb()
        redis.start()
        env = {
            "DATABASE_URL": cluster.url,
            "CELERY_BROKER_URL": redis.url,
            "CXHUB_VAR_DIR": str(tmp / "var"),
            "DJANGO_SETTINGS_MODULE": "cxhub.settings",
            "CXHUB_PUSH_PROVIDER": "console",
        }
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command

        from incidents.models import Integration

        call_command("migrate", verbosity=0)
        call_command("demo", quiet=True)
        integration = Integration(name="edge")
        token = integration.set_new_token()
        integration.save()
        for _ in range(args.rounds):
            for tree in trees:
                results[tree].append(measure(tree, env, tmp, token, args.seconds))
                print(tree.name, json.dumps(results[tree][-1]), flush=True)
    finally:
        redis.stop()
        cluster.destroy()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average {load_before[0]:.1f} -> {os.getloadavg()[0]:.1f}")
    print(
        "| checkout | round | /healthz req/s | ingest req/s (p50 / p99 ms) | ratio "
        "| web CPU per ingest request |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for tree, runs in results.items():
        for n, r in enumerate(runs, 1):
            print(
                f"| {tree.name} | {n} | {r['healthz']:,.0f} | {r['ingest']:,.0f} "
                f"({r['p50']:.1f} / {r['p99']:.1f}) | {r['ingest'] / r['healthz']:.2f} | "
                f"{r['cpu_ms']:.2f} ms |"
            )


if __name__ == "__main__":
    main()
