"""Benchmark: an outage push delivered end to end through FCM HTTP v1 to a local fake FCM.

    .venv/bin/python bench/push_delivery.py [--devices 1000000] [--workers 2]
    .venv/bin/python bench/push_delivery.py --devices 100000 --night 0.3 --capped 0.1

Loads N customers with one device each (bench/push_fanout.py's loader), starts
the fast fake FCM server (bench/fake_fcm.py) and a Celery worker with W
processes on the deliveries queue, with the `fcm` provider pointed at the fake
(a real service account and JWT-bearer exchange). Then one report makes the
push due, and it measures the time until the last device is in the ledger as
sent (or capped, or held for quiet hours when asked), the pushes per second per
worker process and the peak RSS (VmHWM) of each worker process.

--night F puts a fraction F of the customers in a time zone where it is night
now (their batches are held until morning: counted when queued as held);
--capped F gives a fraction F an outage push by another incident an hour ago
(the frequency cap skips them). Uses BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/h13_bench) and BENCH_BROKER_URL (default
redis://127.0.0.1:6379/13).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/h13_bench")
os.environ.setdefault("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")

from bench import push_fanout  # noqa: E402
from tests.processes import free_port  # noqa: E402


def service_account(folder: Path, port: int) -> tuple[Path, Path]:
    """Write a fresh service account (and its public key) whose token URI is the fake."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    account = {
        "type": "service_account",
        "project_id": "cxhub-bench",
        "private_key_id": "bench",
        "private_key": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "client_email": "bench@cxhub-bench.iam.gserviceaccount.com",
        "token_uri": f"http://127.0.0.1:{port}/token",
    }
    account_path, key_path = folder / "account.json", folder / "public.pem"
    account_path.write_text(json.dumps(account))
    key_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return account_path, key_path


def night_zone(now: datetime) -> str:
    """Return a time zone where `now` falls in 22:00-08:00."""
    import zoneinfo

    for zone in ("Asia/Tokyo", "Europe/London", "America/Sao_Paulo", "America/Los_Angeles"):
        hour = now.astimezone(zoneinfo.ZoneInfo(zone)).hour
        if hour >= 22 or hour < 7:
            return zone
    raise RuntimeError("no night zone found")


def day_zone(now: datetime) -> str:
    import zoneinfo

    for zone in ("America/Sao_Paulo", "Asia/Tokyo", "Europe/London", "America/Los_Angeles"):
        if 9 <= now.astimezone(zoneinfo.ZoneInfo(zone)).hour < 21:
            return zone
    raise RuntimeError("no day zone found")


def prepare(night: float, capped: float) -> dict:
    """Set time zones and recent pushes for the quiet-hours / cap run; return the counts."""
    from django.db import connection
    from django.utils import timezone

    from actions.models import Action
    from incidents.escalation import policy_of
    from incidents.models import Incident

    now = timezone.now()
    # The provider is frozen into the incident's policy when it opens: the action names it.
    Action.objects.filter(code="B001").update(push_provider="fcm")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE notifications_customer SET time_zone = %s", [day_zone(now)])
        cursor.execute(
            "UPDATE notifications_customer SET last_outage_push_at = NULL, "
            "last_outage_incident_id = NULL"
        )
        counts = {"night": 0, "capped": 0}
        if night:
            cursor.execute(
                "UPDATE notifications_customer SET time_zone = %s WHERE mod(id, 1000) < %s",
                [night_zone(now), int(night * 1000)],
            )
            counts["night"] = cursor.rowcount
        if capped:
            action = Action.objects.get(code="B001")
            other = Incident.objects.create(
                action=action,
                status="resolved",
                opened_at=now - timedelta(hours=1),
                last_occurrence_at=now - timedelta(hours=1),
                resolved_at=now - timedelta(minutes=30),
                policy=policy_of(action),
            )
            # Counted from the other end of the ids, so some night customers are capped too.
            cursor.execute(
                "UPDATE notifications_customer SET last_outage_push_at = %s, "
                "last_outage_incident_id = %s WHERE mod(id, 1000) >= %s",
                [now - timedelta(hours=1), other.pk, 1000 - int(capped * 1000)],
            )
            counts["capped"] = cursor.rowcount
        cursor.execute("ANALYZE notifications_customer")
    return counts


def rss_kb(pid: int) -> tuple[int, int]:
    """Return (VmRSS, VmHWM) of a process in kB, (0, 0) once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(values.get("VmRSS", "0 kB").split()[0]), int(values.get("VmHWM", "0 kB").split()[0])


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found.append(child)
            todo.append(child)
    return found


def ledger_counts() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, count(*) FROM notifications_pushrecord WHERE purpose = 'outage' "
            "GROUP BY status"
        )
        return dict(cursor.fetchall())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=32, help="FCM requests in flight")
    parser.add_argument("--night", type=float, default=0.0)
    parser.add_argument("--capped", type=float, default=0.0)
    parser.add_argument("--timeout", type=int, default=1800)
    args = parser.parse_args()

    push_fanout.create_database()
    os.environ["CXHUB_QUIET_HOURS"] = "22:00-08:00" if args.night else ""
    push_fanout.django_setup(args.batch_size)
    push_fanout.load(args.devices)
    counts = prepare(args.night, args.capped)
    from cxhub.celery import app

    app.control.purge()
    port = free_port()
    procs = []
    with tempfile.TemporaryDirectory(prefix="cxhub-delivery-bench-") as folder:
        tmp = Path(folder)
        account, public_key = service_account(tmp, port)
        env = {
            **os.environ,
            "DATABASE_URL": push_fanout.DATABASE_URL,
            "CELERY_BROKER_URL": push_fanout.BROKER_URL,
            "CXHUB_PUSH_PROVIDER": "fcm",
            "CXHUB_FCM_CREDENTIALS_FILE": str(account),
            "CXHUB_FCM_BASE_URL": f"http://127.0.0.1:{port}",
            "CXHUB_PUSH_CONCURRENCY": str(args.concurrency),
            "CXHUB_PUSH_BATCH_SIZE": str(args.batch_size),
            "CXHUB_PUSH_APPROVAL_THRESHOLD": "0",
            "LOG_LEVEL": "WARNING",
        }
        try:
            fake = subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    str(ROOT / "bench" / "fake_fcm.py"),
                    "--port",
                    str(port),
                    "--account",
                    str(account),
                    "--public-key",
                    str(public_key),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            procs.append(fake)
            assert fake.stdout.readline().strip() == str(port)
            worker_log = open(tmp / "worker.log", "w")  # noqa: SIM115
            worker = subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "cxhub",
                    "worker",
                    "-Q",
                    "deliveries",
                    "--concurrency",
                    str(args.workers),
                    "--prefetch-multiplier",
                    "1",
                    "--loglevel",
                    "WARNING",
                    "--without-gossip",
                    "--without-mingle",
                ],
                cwd=ROOT,
                env=env,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            procs.append(worker)
            deadline = time.monotonic() + 60
            while len(descendants(worker.pid)) < args.workers:
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise RuntimeError((tmp / "worker.log").read_text())
                time.sleep(0.2)
            result = run(args, counts, worker, env)
        finally:
            for proc in reversed(procs):
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
            app.control.purge()
    print(json.dumps(result, indent=2))
    return 0 if result["ledgered"] == result["expected"] else 1


def run(args, counts, worker, env) -> dict:
    """Make the push due in a child process (as the report worker would) and wait."""
    import httpx

    base = env["CXHUB_FCM_BASE_URL"]
    started = time.monotonic()
    subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "bench" / "push_fanout.py"), "--child"]
        + ["--batch-size", str(args.batch_size)],
        env={**env, "BENCH_DATABASE_URL": env["DATABASE_URL"]},
        check=True,
        capture_output=True,
    )
    queued = time.monotonic() - started
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(size), 0) FROM notifications_delivery "
            "WHERE purpose = 'push' AND quiet_hours = 'held'"
        )
        held = cursor.fetchone()[0]
    expected = args.devices - held
    peaks: dict[int, int] = {}
    ledgered, last_change, samples = 0, time.monotonic(), []
    while time.monotonic() - started < args.timeout:
        for pid in [worker.pid, *descendants(worker.pid)]:
            peaks[pid] = max(peaks.get(pid, 0), rss_kb(pid)[1])
        counts_now = ledger_counts()
        done = counts_now.get("sent", 0) + counts_now.get("capped", 0)
        if done != ledgered:
            ledgered, last_change = done, time.monotonic()
            samples.append((round(last_change - started, 1), done))
        if ledgered >= expected:
            break
        if time.monotonic() - last_change > 120:
            break  # stuck
        time.sleep(1.0)
    elapsed = last_change - started
    final = ledger_counts()
    stats = httpx.get(f"{base}/stats").json()
    return {
        "devices": args.devices,
        "night_customers": counts["night"],
        "capped_customers_before": counts["capped"],
        "held_for_morning": held,
        "expected": expected,
        "ledgered": ledgered,
        "ledger": final,
        "fake_fcm": stats,
        "queued_seconds": round(queued, 1),
        "seconds_until_last_ledgered": round(elapsed, 1),
        "pushes_per_second": round(final.get("sent", 0) / elapsed, 1),
        "worker_processes": args.workers,
        "pushes_per_second_per_worker_process": round(
            final.get("sent", 0) / elapsed / args.workers, 1
        ),
        "peak_rss_mb_by_process": {
            str(pid): round(kb / 1024) for pid, kb in sorted(peaks.items()) if kb
        },
        "progress": samples[:: max(1, len(samples) // 20)],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


if __name__ == "__main__":
    sys.exit(main())
