"""Benchmark: a status page notice to 100,000 e-mail subscribers, queued then sent by SMTP.

    .venv/bin/python bench/status_notices.py [--subscribers 100000] [--rate 12000]
        [--send-seconds 30]

Loads N confirmed whole-page e-mail subscribers with generate_series (reused
while the count matches), opens a customer-visible incident on `login`, then
times what the notice's receiver and fan-out task do: `incident_notices` (the
notice, rendered in pt-BR and en, its audience counted) and `notice_fan_out`
(the audience streamed into delivery batches of CXHUB_PUSH_BATCH_SIZE, inserted
and committed, one send task published per batch). "Queued" ends at that commit.

Then it sends through the real path: CXHUB_EMAIL_PROVIDER=smtp to an aiosmtpd
server in its own process, with the send-rate limit `email:smtp=<rate>` per
minute held in Redis like production. A loop, as workers would, sends each
due batch (a batch past its share of the rate reserves a later slot and waits
for it), for --send-seconds, and reports the rate reached against the limit
and the ledger rows written (one per e-mail). A full send takes N * 60 / rate
seconds; the script runs a part of it and extrapolates the rest, and says so.

Uses its own database and Redis db: BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/cxhub_status_bench) and BENCH_REDIS_URL
(default redis://127.0.0.1:6379/9).
"""

import argparse
import multiprocessing
import os
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cxhub_status_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def smtp_server(port: int, received, ready) -> None:
    """Run an aiosmtpd server that counts the messages it accepts (its own process)."""
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)

    class Counter:
        async def handle_DATA(self, server, session, envelope):
            with received.get_lock():
                received.value += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def django_setup(*, port: int, rate: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DATABASE_URL=DATABASE_URL,
        CELERY_BROKER_URL="memory://",
        CXHUB_THROTTLE_REDIS_URL=REDIS_URL,
        CXHUB_EMAIL_PROVIDER="smtp",
        EMAIL_URL=f"smtp://127.0.0.1:{port}",
        CXHUB_OUTBOUND_ALLOW="127.0.0.1",
        CXHUB_PUSH_RATE_LIMITS=f"email:smtp={rate}",
        CXHUB_PUSH_RATE_BURST_SECONDS="1",
        DJANGO_SETTINGS_MODULE="cxhub.settings",
        LOG_LEVEL="ERROR",
    )
    import django

    django.setup()


def create_database() -> None:
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    admin_url = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def load(subscribers: int):
    """Create the scenario and N confirmed e-mail subscribers (idempotent); return the action."""
    from django.core.management import call_command
    from django.db import connection

    from actions.models import Action, Service, TriggerRule
    from statuspage.models import Subscriber

    call_command("migrate", verbosity=0)
    login, _ = Service.objects.update_or_create(
        slug="login", defaults={"name": "Login no app", "status_visible": True}
    )
    action, _ = Action.objects.update_or_create(
        code="B001",
        defaults={"name": "Login down (bench)", "push_threshold": 1, "status_visible": True},
    )
    TriggerRule.objects.get_or_create(action=action, service=login, code="503")
    with connection.cursor() as cursor:
        # Leftovers of a previous run; TRUNCATE, as Django's delete() would load the rows.
        cursor.execute(
            "TRUNCATE statuspage_noticerecord, statuspage_notice, notifications_delivery, "
            "notifications_sendrateschedule, incidents_timelineevent, incidents_incident CASCADE"
        )
        if Subscriber.objects.count() != subscribers:
            cursor.execute("TRUNCATE statuspage_subscriber CASCADE")
            cursor.execute(
                """
                INSERT INTO statuspage_subscriber
                    (id, kind, email, url, secret, name, language, whole_page,
                     confirmed_at, created_at)
                SELECT gen_random_uuid(), 'email', 'bench-' || n || '@example.com', '', '', '',
                       CASE WHEN n %% 3 = 0 THEN 'en' ELSE 'pt-br' END, true, now(), now()
                FROM generate_series(1, %s) AS n
                """,
                [subscribers],
            )
    return action


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=12_000, help="e-mails per minute")
    parser.add_argument("--send-seconds", type=float, default=30.0)
    args = parser.parse_args()

    port = free_port()
    received, ready = multiprocessing.Value("i", 0), multiprocessing.Event()
    server = multiprocessing.Process(target=smtp_server, args=(port, received, ready), daemon=True)
    server.start()
    ready.wait(10)
    create_database()
    django_setup(port=port, rate=args.rate)

    from django.db import transaction
    from django.utils import timezone

    from incidents.models import Incident
    from notifications.models import Delivery
    from notifications.services import delivery_send
    from notifications.tests.throttle_state import schedules_reset
    from statuspage.models import NoticeRecord
    from statuspage.notices import incident_notices, notice_fan_out

    print(f"loading {args.subscribers:,} subscribers ...", flush=True)
    action = load(args.subscribers)
    schedules_reset()
    now = timezone.now()
    incident = Incident.objects.create(
        action=action,
        occurrences=1,
        opened_at=now,
        last_occurrence_at=now,
        policy={"push_threshold": 1, "approval": {"threshold": 0}},
    )

    started = time.perf_counter()
    with transaction.atomic():
        (notice,) = incident_notices(incident.pk)
    batches = notice_fan_out(notice.pk)
    queued = time.perf_counter() - started
    print(
        f"queued: notice to {notice.audience:,} subscribers in {batches} deliveries, "
        f"{queued:.1f} s from 'visible' to committed and published",
        flush=True,
    )

    send_started = time.perf_counter()
    # Every batch's task arrives at once: each claims its batch, writes its ledger rows
    # and sends or reserves its slot (workers do this in parallel; here one process).
    for pk in Delivery.objects.filter(purpose="status_notice").values_list("pk", flat=True):
        delivery_send(pk)
    claimed = time.perf_counter() - send_started
    sent_at_claim = NoticeRecord.objects.filter(status="sent").count()
    print(
        f"claim pass: {batches} batches claimed, {NoticeRecord.objects.count():,} ledger rows "
        f"written, {sent_at_claim:,} sent and the rest given slots, in {claimed:.1f} s",
        flush=True,
    )
    deadline = send_started + args.send_seconds
    while time.perf_counter() < deadline:
        due = list(
            Delivery.objects.filter(
                purpose="status_notice", status="pending", due_at__lte=timezone.now()
            ).values_list("pk", flat=True)
        )
        if not due:
            if not Delivery.objects.filter(purpose="status_notice", status="pending").exists():
                break
            time.sleep(0.05)
            continue
        for pk in due:
            delivery_send(pk)
    elapsed = time.perf_counter() - send_started
    sent = NoticeRecord.objects.filter(status="sent").count()
    steady = (sent - sent_at_claim) / max(elapsed - claimed, 1e-9) * 60
    print(
        f"after the claim pass: {sent - sent_at_claim:,} e-mails in {elapsed - claimed:.1f} s "
        f"= {steady:,.0f}/min (limit {args.rate:,}/min)",
        flush=True,
    )
    print(
        f"sent: {sent:,} e-mails in {elapsed:.1f} s = {sent / elapsed * 60:,.0f}/min "
        f"(limit {args.rate:,}/min); SMTP server accepted {received.value:,}; "
        f"ledger rows {NoticeRecord.objects.count():,} "
        f"({NoticeRecord.objects.filter(status='pending').count():,} pending: batches "
        "claimed, waiting for their slot)",
        flush=True,
    )
    waiting = Delivery.objects.filter(purpose="status_notice", status="pending")
    last_slot = max(
        waiting.exclude(rate_slot_at=None).values_list("rate_slot_at", flat=True), default=None
    )
    if last_slot:
        print(
            f"{waiting.count()} batches still wait; the latest reserved slot is "
            f"{(last_slot - timezone.now()).total_seconds():.0f} s ahead",
            flush=True,
        )
    left = args.subscribers - sent
    if left > 0:
        print(
            f"not run: the remaining {left:,} e-mails at the limit take "
            f"{left * 60 / args.rate:.0f} s more (extrapolated)",
            flush=True,
        )
    server.kill()


if __name__ == "__main__":
    main()
