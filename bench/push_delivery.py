"""Benchmark: an outage push delivered end to end through FCM HTTP v1 to N devices.

    .venv/bin/python bench/push_delivery.py [--devices 1000000] [--batch-size 500]
        [--capped-share 0.2] [--rate-limit 0] [--quiet-share 0]

Loads N customers of service `login` with one device each (bench/push_fanout.py's
loader, reused while the count matches), starts a fast fake FCM server
(bench/fake_fcm.py, its own process) and a real Celery worker (2 processes, with
beat) on PostgreSQL and Redis, then ingests one report that opens the incident
and makes the push due. The worker drains it, fans the push out, sends every
batch through the FCM HTTP v1 provider (OAuth2 JWT exchange, one request per
device) and records every device in the ledger. It prints the time from the
report until the last device is ledgered sent, pushes/s per worker process, the
worker processes' peak RSS, and checks the ledger against what the fake accepted.

Every customer gets a time zone where it is day now (so quiet hours hold nobody);
--quiet-share puts that share in a time zone where it is night now, so their
batches are held for the morning (not sent, not waited for). --capped-share
marks that share of customers as pushed by another incident a minute ago, so
the frequency cap skips them. --rate-limit sets the fcm send-rate limit
(messages/minute).

Uses its own database and Redis db: BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/h13b_bench) and BENCH_BROKER_URL
(default redis://127.0.0.1:6379/8).
"""

import argparse
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/h13b_bench")
os.environ.setdefault("BENCH_BROKER_URL", "redis://127.0.0.1:6379/8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_account(port: int) -> dict:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": "cxhub-bench",
        "private_key_id": "bench-1",
        "private_key": pem,
        "client_email": "cxhub@cxhub-bench.iam.gserviceaccount.com",
        "token_uri": f"http://127.0.0.1:{port}/token",
    }


def peak_rss_mb(pid: int) -> dict:
    """Return {pid: VmHWM in MB} of a process and its children (the prefork pool)."""
    pids = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # the parent pid, after the name and the state
            pids.append(int(stat.parent.name))
    peaks = {}
    for each in pids:
        status = Path(f"/proc/{each}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmHWM"))
        peaks[each] = int(line.split()[1]) / 1024
    return peaks


def zones_now() -> tuple[str, str]:
    """Return a time zone where it is day now and one where it is night (for the next hour)."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from notifications.quiet_hours import morning_of

    now, window = timezone.now(), settings.CXHUB_QUIET_WINDOW
    if window is None:  # quiet hours off: nobody is held
        return "America/Sao_Paulo", ""
    candidates = [
        "America/Sao_Paulo", "UTC", "Europe/Moscow", "Asia/Kolkata", "Asia/Shanghai",
        "Asia/Tokyo", "Pacific/Auckland", "Pacific/Honolulu", "America/Los_Angeles",
        "America/New_York",
    ]  # fmt: skip

    def night(zone):
        return all(morning_of(now + timedelta(minutes=m), zone, window) for m in (0, 60))

    def day(zone):
        return not any(morning_of(now + timedelta(minutes=m), zone, window) for m in (0, 60))

    return next(z for z in candidates if day(z)), next(z for z in candidates if night(z))


def prepare(args) -> None:
    """Reset the scenario: enabled devices, time zones, the cap's share, the action."""
    from django.db import connection

    from actions.models import Action
    from notifications.tests.throttle_state import schedules_reset

    Action.objects.filter(code="B001").update(
        push_provider="fcm", approval_threshold=0, push_paused=False
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE notifications_device SET enabled = true WHERE NOT enabled")
        day, night = zones_now()
        cursor.execute("UPDATE notifications_customer SET time_zone = %s", [day])
        if args.quiet_share:
            step = max(1, round(1 / args.quiet_share))
            # Offset by one from the capped ones, so the two shares do not overlap.
            cursor.execute(
                "UPDATE notifications_customer SET time_zone = %s WHERE mod(id + 1, %s) = 0",
                [night, step],
            )
        print(f"day zone {day}, night zone {night}", file=sys.stderr, flush=True)
        cursor.execute(
            "UPDATE notifications_customer SET last_outage_push_at = NULL "
            "WHERE last_outage_push_at IS NOT NULL"
        )
        if args.capped_share:
            step = max(1, round(1 / args.capped_share))
            cursor.execute(
                "UPDATE notifications_customer SET last_outage_push_at = now() - interval "
                "'1 minute' WHERE mod(id, %s) = 0",
                [step],
            )
        cursor.execute("VACUUM ANALYZE notifications_customer")
    schedules_reset()


def wait_done(fake, *, started: float, limit: float) -> None:
    from notifications.models import Delivery

    # Batches held for their customers' morning are not waited for.
    unfinished = Delivery.objects.filter(purpose="push", status__in=["pending", "sending"]).exclude(
        quiet_hours="held"
    )
    while True:
        time.sleep(2)
        left = unfinished.count()
        batches = Delivery.objects.filter(purpose="push").count()
        stats = fake.stats()
        print(
            f"  … {time.time() - started:6.0f} s: {batches:,} batches, {left:,} unfinished, "
            f"{stats['accepted']:,} accepted by the fake",
            file=sys.stderr,
            flush=True,
        )
        if batches and not left:
            return
        if time.time() - started > limit:
            raise SystemExit(f"not done after {limit:.0f} s")


def run(args, tmp: Path) -> dict:
    from django.db.models import Count, Max, Min, Sum

    from bench import push_fanout
    from bench.fake_fcm import FakeFcmProcess
    from incidents import services
    from incidents.models import Integration
    from notifications.models import Delivery, PushRecord
    from tests.worker import running_worker

    push_fanout.load(args.devices)
    prepare(args)
    fake = FakeFcmProcess(int(os.environ["BENCH_FCM_PORT"]), json.loads(args.account))
    try:
        env = {
            "CXHUB_SWEEP_SECONDS": "5",
            "CXHUB_STALE_SECONDS": "10",
            "CXHUB_QUIET_HOURS": os.environ["CXHUB_QUIET_HOURS"],
        }
        with running_worker(tmp, env=env) as worker:
            integration = Integration.objects.get(name="bench")
            started = time.time()
            report, _ = services.report_ingest(
                integration=integration,
                triggers=[{"service": "login", "code": "503"}],
                payload={},
            )
            wait_done(fake, started=started, limit=args.time_limit)
            rss = peak_rss_mb(worker.process.pid)
        stats = fake.stats()
    finally:
        fake.stop()
    sent = PushRecord.objects.filter(status="sent").aggregate(
        first=Min("sent_at"), last=Max("sent_at")
    )
    by_status = dict(
        PushRecord.objects.values_list("status").annotate(n=Count("id")).order_by("status")
    )
    held = Delivery.objects.filter(purpose="push", quiet_hours="held").aggregate(
        batches=Count("id"), devices=Sum("size")
    )
    elapsed = (sent["last"] - report.received_at).total_seconds()
    return {
        "devices": args.devices,
        "ledger": by_status,
        "held_for_morning": {"batches": held["batches"], "devices": held["devices"] or 0},
        "fake_accepted": stats["accepted"],
        "fake_duplicates": stats["duplicates"],
        "seconds_to_last_ledgered": elapsed,
        "first_sent_after": (sent["first"] - report.received_at).total_seconds(),
        "pushes_per_second_per_process": by_status.get("sent", 0) / elapsed / 2,
        "worker_peak_rss_mb": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16, help="CXHUB_PUSH_CONCURRENCY")
    parser.add_argument("--capped-share", type=float, default=0.0)
    parser.add_argument("--rate-limit", type=int, default=0, help="fcm messages per minute")
    parser.add_argument("--quiet-share", type=float, default=0.0)
    parser.add_argument("--time-limit", type=float, default=1800)
    args = parser.parse_args()

    port = free_port()
    account = service_account(port)
    args.account = json.dumps(account)
    tmp = Path(tempfile.mkdtemp(prefix="push-delivery-"))
    credentials = tmp / "fcm.json"
    credentials.write_text(args.account)
    os.environ.update(
        BENCH_FCM_PORT=str(port),
        CXHUB_FCM_CREDENTIALS_FILE=str(credentials),
        CXHUB_FCM_BASE_URL=f"http://127.0.0.1:{port}",
        CXHUB_PUSH_CONCURRENCY=str(args.concurrency),
        CXHUB_PUSH_APPROVAL_THRESHOLD="0",
        LOG_LEVEL="WARNING",
    )
    # Quiet hours only when a share of customers is put in the night.
    os.environ["CXHUB_QUIET_HOURS"] = "22:00-08:00" if args.quiet_share else ""
    if args.rate_limit:
        os.environ["CXHUB_PUSH_RATE_LIMITS"] = f"fcm={args.rate_limit}"
    from bench import push_fanout

    push_fanout.create_database()
    push_fanout.django_setup(args.batch_size)
    result = run(args, tmp)
    print(json.dumps(result, default=str))
    rss = max(result["worker_peak_rss_mb"].values())
    held = result["held_for_morning"]["devices"]
    print(
        f"{result['devices']:,} devices: ledger {result['ledger']}, {held:,} held for the "
        f"morning; last device ledgered sent "
        f"{result['seconds_to_last_ledgered']:.0f} s after the report; "
        f"{result['pushes_per_second_per_process']:.0f} pushes/s per worker process; "
        f"worker peak RSS {rss:.0f} MB (max of {len(result['worker_peak_rss_mb'])} processes)"
    )
    expected = result["devices"] - result["ledger"].get("capped", 0) - held
    if result["ledger"].get("sent") != expected or result["fake_accepted"] != expected:
        sys.exit(f"expected {expected} sent and accepted, got {result}")


if __name__ == "__main__":
    main()
