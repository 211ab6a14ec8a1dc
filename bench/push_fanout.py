"""Benchmark: fan-out of an outage push to 1,000,000 devices on PostgreSQL.

    .venv/bin/python bench/push_fanout.py [--devices 1000000] [--batch-size 500] [--night 0.3]

Loads N customers of service `login`, one device each, with generate_series (once;
reused while the count matches), then runs, in a fresh child process, exactly
what the worker's `process_report` task does for a report that makes the push
due: count the occurrence, evaluate, stream the audience into push batches, commit,
publish one send task per batch to the broker. It prints the time from "push due"
(the report is processed) until every batch is committed and its task published,
and the child's peak RSS (VmHWM). The published tasks are purged afterwards.
`--night F` turns quiet hours on (22:00-08:00) with a fraction F of the customers
in a time zone where it is night now, the rest where it is day: the fan-out then
splits the audience by time zone (their batches are held until morning).

Uses its own database and Redis db: BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/cx_issue5_bench) and BENCH_BROKER_URL
(default redis://127.0.0.1:6379/5).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cx_issue5_bench"
)
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/5")


def django_setup(batch_size: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["CELERY_BROKER_URL"] = BROKER_URL
    os.environ["CXHUB_PUSH_BATCH_SIZE"] = str(batch_size)
    os.environ["CXHUB_PUSH_PROVIDER"] = "console"
    # The fan-out itself is measured: no quiet hours unless asked.
    os.environ.setdefault("CXHUB_QUIET_HOURS", "")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def create_database() -> None:
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    admin_url = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def load(devices: int) -> None:
    """Create the scenario and N customers with one login device each (idempotent)."""
    from django.core.management import call_command
    from django.db import connection

    from actions.models import Action, Service, TriggerRule
    from incidents.models import Integration
    from notifications.models import Customer, Device

    call_command("migrate", verbosity=0)
    login, _ = Service.objects.get_or_create(slug="login", defaults={"name": "Login no app"})
    action, _ = Action.objects.get_or_create(
        code="B001", defaults={"name": "Login down (bench)", "push_threshold": 1}
    )
    TriggerRule.objects.get_or_create(action=action, service=login, code="503")
    Integration.objects.get_or_create(name="bench", defaults={"token_hash": "bench"})
    Customer.objects.filter(last_outage_incident__isnull=False).update(last_outage_incident=None)
    with connection.cursor() as cursor:
        # Leftovers of a previous run; TRUNCATE, as Django's delete() would load the rows.
        cursor.execute(
            "TRUNCATE notifications_pushrecord, notifications_delivery, "
            "incidents_timelineevent, incidents_trigger, incidents_report"
        )
        cursor.execute("DELETE FROM incidents_incident")
    if Device.objects.filter(enabled=True).count() == devices:
        return
    print(f"loading {devices:,} customers and devices ...", flush=True)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE notifications_device, notifications_customer_services, "
            "notifications_customer_tags, notifications_customer CASCADE"
        )
        cursor.execute(
            "INSERT INTO notifications_customer (external_id, locale, created_at, updated_at) "
            "SELECT 'bench-' || g, CASE WHEN mod(g, 5) = 0 THEN 'en' ELSE 'pt-BR' END, "
            "now(), now() "
            "FROM generate_series(1, %s) g",
            [devices],
        )
        cursor.execute(
            "INSERT INTO notifications_customer_services (customer_id, service_id) "
            "SELECT id, %s FROM notifications_customer",
            [login.pk],
        )
        cursor.execute(
            "INSERT INTO notifications_device (customer_id, platform, token, enabled, "
            "disabled_reason, created_at) "
            "SELECT id, CASE WHEN mod(id, 3) = 0 THEN 'ios' ELSE 'android' END, "
            "'bench-token-' || id, true, '', now() FROM notifications_customer"
        )
        cursor.execute("ANALYZE")
    print(f"loaded in {time.monotonic() - started:.1f} s", flush=True)


def zones_set(night: float) -> None:
    """Put a fraction `night` of the customers where it is night now, the rest in daylight."""
    import zoneinfo

    from django.db import connection
    from django.utils import timezone

    now = timezone.now()

    def hour(zone):
        return now.astimezone(zoneinfo.ZoneInfo(zone)).hour

    zones = ("America/Sao_Paulo", "Asia/Tokyo", "Europe/London", "America/Los_Angeles")
    day = next(z for z in zones if 9 <= hour(z) < 21)
    dark = next(z for z in zones if hour(z) >= 22 or hour(z) < 7)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE notifications_customer SET time_zone = %s", [day])
        cursor.execute(
            "UPDATE notifications_customer SET time_zone = %s WHERE mod(id, 1000) < %s",
            [dark, int(night * 1000)],
        )
        cursor.execute("ANALYZE notifications_customer")


def run_fan_out() -> dict:
    """In this (fresh) process: ingest one report and process it as the worker would."""
    from django.db import connection

    from incidents import services
    from incidents.counting.drain import report_process
    from incidents.models import Integration

    integration = Integration.objects.get(name="bench")
    report, _ = services.report_ingest(
        integration=integration, triggers=[{"service": "login", "code": "503"}], payload={}
    )
    connection.ensure_connection()
    started = time.monotonic()
    report_process(report.id)  # commits; on_commit publishes one task per batch
    elapsed = time.monotonic() - started
    status = Path("/proc/self/status").read_text()  # before the checks below allocate
    peak_kb = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(jsonb_array_length(recipients::jsonb)), 0), "
            "count(DISTINCT key) FROM notifications_delivery WHERE purpose = 'push'"
        )
        batches, devices, keys = cursor.fetchone()
        cursor.execute(
            "SELECT coalesce(sum(size), 0) FROM notifications_delivery "
            "WHERE purpose = 'push' AND quiet_hours = 'held'"
        )
        held = cursor.fetchone()[0]
    assert batches == keys
    return {
        "seconds": elapsed,
        "batches": batches,
        "devices": devices,
        "held": held,
        "peak_rss_mb": peak_kb / 1024,
    }


def purge_broker() -> int:
    from cxhub.celery import app

    return app.control.purge()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--night", type=float, default=0.0, help="fraction in their night")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        django_setup(args.batch_size)
        print(json.dumps(run_fan_out()))
        return
    if args.night:
        os.environ["CXHUB_QUIET_HOURS"] = "22:00-08:00"
    create_database()
    django_setup(args.batch_size)
    load(args.devices)
    zones_set(args.night)
    child = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, __file__, "--child", "--batch-size", str(args.batch_size)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(child.stdout.strip().splitlines()[-1])
    purged = purge_broker()
    print(
        f"{result['devices']:,} devices in {result['batches']:,} batches of "
        f"{args.batch_size}: queued in {result['seconds']:.1f} s, "
        f"worker peak RSS {result['peak_rss_mb']:.0f} MB ({purged} queued tasks purged); "
        f"{result['held']:,} devices held for their morning"
    )
    if result["devices"] != args.devices:
        sys.exit(f"expected {args.devices} devices in the batches, got {result['devices']}")


if __name__ == "__main__":
    main()
