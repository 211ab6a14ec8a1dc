"""Benchmark cxhub's ingest and processing on PostgreSQL + Redis, against a bare Django view.

    .venv/bin/python bench/ingest.py [--seconds 6]

Starts its own throwaway PostgreSQL cluster and Redis (tests/processes.py), gunicorn
(one sync worker per core) serving cxhub and a bare view (bench/urls.py), and a
Celery worker (2 processes) with beat. Loads them with `wrk` on 127.0.0.1, prints a
table, stops everything. Exits non-zero only when something fails.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import launch, percentile, print_rows, row, say, stop_started  # noqa: E402
from tests.processes import Gunicorn, PostgresCluster, RedisServer  # noqa: E402

ONE = '{"gatilhos": [{"servico": "login", "retorno": "503"}]}'
HUNDRED = '{"gatilhos": [' + ", ".join(['{"servico": "login", "retorno": "503"}'] * 100) + "]}"


def wrk(url, *, body=None, token=None, seconds, connections, tmp):
    """Run wrk; return (requests/s, p50 ms, p99 ms), refusing a run with error answers."""
    rate, bad, p50, p99 = common.wrk(
        url, seconds=seconds, tmp=tmp, body=body, token=token, connections=connections
    )
    if bad:
        raise RuntimeError(f"{bad} error responses from {url}")
    return rate, p50, p99


def wait(predicate, timeout, message):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout}s: {message}")
        time.sleep(0.2)
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=6, help="wrk duration per run")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="cxhub-bench-"))
    cores = os.cpu_count() or 2
    cluster, redis = PostgresCluster(), RedisServer()
    try:
        say("starting PostgreSQL and Redis")
        cluster.init().start()
        cluster.createdb()
        redis.start()
        env = {
            "DATABASE_URL": cluster.url,
            "CELERY_BROKER_URL": redis.url,
            "CXHUB_VAR_DIR": str(tmp / "var"),
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "CXHUB_PUSH_PROVIDER": "console",
            "LOG_LEVEL": "ERROR",
        }
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        run(args, tmp, cores, env)
    finally:
        stop_started()
        redis.stop()
        cluster.destroy()
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(cores)


def run(args, tmp, cores, env):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from actions.models import Action, Service, Tier, TriggerRule
    from conftest import make_scenario
    from incidents import services
    from incidents.counting.drain import report_process
    from incidents.counting.opening import incident_count_occurrence
    from incidents.lifecycle.evaluation import incident_check
    from incidents.models import Incident, Integration, Report, Trigger
    from notifications.models import Channel, Delivery, Team
    from tests.worker import Worker

    make_scenario(channel_kind="console")
    integration = Integration(name="bench")
    token = integration.set_new_token()
    integration.save()

    # SQL per trigger, in-process (the same code the web and worker run), in the steady
    # state: the incident is open and the rule match cached (the first report costs more).
    warm, _ = services.report_ingest(
        integration=integration, triggers=[{"service": "login", "code": "503"}], payload={}
    )
    report_process(warm.id)
    for label, body_triggers in (("1", 1), ("100", 100)):
        triggers = [{"service": "login", "code": "503"}] * body_triggers
        with CaptureQueriesContext(connection) as ingest_q:
            report, _ = services.report_ingest(
                integration=integration, triggers=triggers, payload={}
            )
        with CaptureQueriesContext(connection) as process_q:
            report_process(report.id)
        row(
            f"SQL queries per request of {label} trigger(s): ingest + process",
            f"{len(ingest_q)} + {len(process_q)} "
            f"({(len(ingest_q) + len(process_q)) / body_triggers:.2f} per trigger)",
        )
    Incident.objects.all().delete()

    web = launch(Gunicorn(tmp / "web.log", env, workers=cores, threads=1))
    base = web.url
    say("loading the bare view")
    bare_rate, bare_p50, bare_p99 = wrk(
        f"{base}/bench/bare", body=ONE, seconds=args.seconds, connections=16, tmp=tmp
    )
    row("bare Django view: requests/s", f"{bare_rate:,.0f}", "ceiling")
    row("bare Django view: p50 / p99 latency", f"{bare_p50:.1f} / {bare_p99:.1f} ms")

    say("loading ingest, 1 trigger per request (worker stopped)")
    rate1, p50, p99 = wrk(
        f"{base}/api/v1/triggers",
        body=ONE,
        token=token,
        seconds=args.seconds,
        connections=16,
        tmp=tmp,
    )
    row("ingest, 1 trigger/request: triggers/s", f"{rate1:,.0f}")
    row("ingest, 1 trigger/request: p50 / p99 latency", f"{p50:.1f} / {p99:.1f} ms")
    row("ratio to the bare view", f"{rate1 / bare_rate:.2f}", ">= 0.5")

    def drain(folder):
        """Start a worker on the waiting reports; return it, their number and seconds to count."""
        backlog = Report.objects.filter(processed_at__isnull=True).count()
        worker = launch(
            Worker(folder, env={**env, "CXHUB_SWEEP_SECONDS": "5", "CXHUB_STALE_SECONDS": "10"})
        )
        start = time.monotonic()
        wait(
            lambda: not Report.objects.filter(processed_at__isnull=True).exists(),
            timeout=180,
            message="backlog drained",
        )
        return worker, backlog, time.monotonic() - start

    worker, backlog, drained = drain(tmp)
    row(
        "workers (2 processes) counting, 1-trigger reports: triggers/s",
        f"{backlog / drained:,.0f} ({backlog:,} in {drained:.1f}s)",
        ">= 500",
    )
    worker.stop()

    say("loading ingest, 100 triggers per request (worker stopped)")
    rate100, p50, p99 = wrk(
        f"{base}/api/v1/triggers",
        body=HUNDRED,
        token=token,
        seconds=args.seconds,
        connections=8,
        tmp=tmp,
    )
    row("ingest, 100 triggers/request: triggers/s", f"{rate100 * 100:,.0f}", ">= 20,000")
    row("ingest, 100 triggers/request: p50 / p99 latency", f"{p50:.1f} / {p99:.1f} ms")
    (tmp / "w2").mkdir()
    worker, backlog, drained = drain(tmp / "w2")
    row(
        "workers counting, 100-trigger reports: triggers/s",
        f"{backlog * 100 / drained:,.0f} ({backlog:,} reports in {drained:.1f}s)",
    )

    # accepted -> counted at low load: 10 requests/s for a few seconds.
    import requests

    http = requests.Session()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    marker = timezone.now()
    for _ in range(args.seconds * 10):
        http.post(f"{base}/api/v1/triggers", data=ONE, headers=headers, timeout=10)
        time.sleep(0.1)
    wait(
        lambda: not Report.objects.filter(processed_at__isnull=True).exists(),
        timeout=60,
        message="low-load reports counted",
    )
    lat = [
        (r.processed_at - r.received_at).total_seconds() * 1000
        for r in Report.objects.filter(received_at__gte=marker)
    ]
    row(
        "accepted -> counted at 10 req/s: p50 / p99",
        f"{percentile(lat, 50):.0f} / {percentile(lat, 99):.0f} ms",
        "p50 < 30 ms",
    )

    # accepted -> page handed to the channel under a steady 200 triggers/s: most go to
    # the open login incident; every 50th is a probe, a new service whose action pages
    # tier 1 at its first occurrence, and the probes' latency is measured.
    seconds = min(args.seconds, 5)
    probe_every = 50
    count = seconds * 200 // probe_every
    team = Team.objects.create(slug="bench", name="Bench")
    Channel.objects.create(team=team, kind="console", target="bench")
    Service.objects.bulk_create(Service(slug=f"p{i}", name=f"p{i}") for i in range(count))
    page_services = {s.slug: s for s in Service.objects.filter(slug__startswith="p")}
    actions = Action.objects.bulk_create(
        Action(code=f"P{i}", name=f"page {i}", push_threshold=None) for i in range(count)
    )
    TriggerRule.objects.bulk_create(
        TriggerRule(action=a, service=page_services[f"p{i}"], code="500")
        for i, a in enumerate(actions)
    )
    Tier.objects.bulk_create(
        Tier(action=a, level=1, name="N1", team=team, after_occurrences=1) for a in actions
    )
    marker = timezone.now()
    achieved = send_rate(base, token, seconds=seconds, per_second=200, probe_every=probe_every)
    wait(
        lambda: (
            Delivery.objects.filter(
                created_at__gte=marker, status=Delivery.Status.SENT, team=team
            ).count()
            >= count
        ),
        timeout=120,
        message="all probe pages sent",
    )
    received = dict(
        Trigger.objects.filter(received_at__gte=marker, service__startswith="p").values_list(
            "service", "received_at"
        )
    )
    lat = []
    for d in Delivery.objects.filter(created_at__gte=marker, team=team).select_related(
        "incident__action"
    ):
        service = "p" + d.incident.action.code[1:]
        lat.append((d.sent_at - received[service]).total_seconds() * 1000)
    row(
        f"accepted -> page sent under {achieved:.0f} triggers/s: p50 / p99",
        f"{percentile(lat, 50):.0f} / {percentile(lat, 99):.0f} ms ({len(lat)} probes)",
        "p99 < 500 ms",
    )

    # Time tier: an incident whose 1-minute tier falls due 2 s from now; default sweep (5 s).
    delays = []
    for n in range(3):
        opened = timezone.now() - timedelta(seconds=58 - n)
        action = Action.objects.create(code=f"T{n}", name=f"time {n}", push_threshold=None)
        Tier.objects.create(action=action, level=1, name="N1", team=team, after_minutes=1)
        incident = incident_count_occurrence(action_id=action.id, at=opened)
        incident_check(incident.pk)
    due = {}
    for n in range(3):
        opened_at = Incident.objects.get(action__code=f"T{n}").opened_at
        due[f"T{n}"] = opened_at + timedelta(minutes=1)
    wait(
        lambda: (
            Delivery.objects.filter(
                incident__action__code__startswith="T", status=Delivery.Status.SENT
            ).count()
            >= 3
        ),
        timeout=30,
        message="time tiers fired",
    )
    for d in Delivery.objects.filter(incident__action__code__startswith="T").select_related(
        "incident__action"
    ):
        delays.append((d.sent_at - due[d.incident.action.code]).total_seconds())
    row(
        "time tier fired after its threshold (sweep every 5 s): max",
        f"{max(delays):.1f} s (of {', '.join(f'{x:.1f}' for x in delays)})",
        "<= 5 s",
    )
    worker.stop()

    # Scaling: per-trigger cost with 10 vs 10,000 actions and open incidents.
    scale(services, Action, Service, TriggerRule, Tier, Incident, integration, team)


def send_rate(base, token, *, seconds, per_second, probe_every):
    """POST one-trigger requests at a steady rate from 4 threads; return the rate achieved.

    Request n is a probe (service p<k>, paging at its first occurrence) when n is a
    multiple of `probe_every`; the others are login/503 into the open incident.
    """
    import requests

    total = seconds * per_second
    interval = 1 / per_second
    start = time.monotonic() + 0.2

    def sender(offset):
        http = requests.Session()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for n in range(offset, total, 4):
            delay = start + n * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if n % probe_every == 0:
                trigger = f'{{"servico": "p{n // probe_every}", "retorno": "500"}}'
            else:
                trigger = '{"servico": "login", "retorno": "503"}'
            response = http.post(
                f"{base}/api/v1/triggers",
                data=f'{{"gatilhos": [{trigger}]}}',
                headers=headers,
                timeout=10,
            )
            response.raise_for_status()

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    return total / (time.monotonic() - start)


def scale(services, Action, Service, TriggerRule, Tier, Incident, integration, team):
    from django.utils import timezone

    from incidents.counting.drain import report_process

    login = Service.objects.get(slug="login")

    def per_trigger_ms(n=150):
        Incident.objects.filter(action__code="0001").delete()
        timings = []
        for _ in range(n):
            start = time.perf_counter()
            report, _ = services.report_ingest(
                integration=integration,
                triggers=[{"service": "login", "code": "503"}],
                payload={},
            )
            report_process(report.id)
            timings.append((time.perf_counter() - start) * 1000)
        return statistics.median(timings)

    def add_actions(total):
        have = Action.objects.filter(code__startswith="S").count()
        created = Action.objects.bulk_create(
            Action(code=f"S{i}", name=f"scale {i}", push_threshold=None) for i in range(have, total)
        )
        slugs = Service.objects.bulk_create(
            Service(slug=f"s{i}", name=f"s{i}") for i in range(have, total)
        )
        TriggerRule.objects.bulk_create(
            # Half cover login's other codes, half other services: both make the lookup work.
            TriggerRule(action=a, service=login if i % 2 else s, code=f"{400 + i % 99}")
            for i, (a, s) in enumerate(zip(created, slugs, strict=True))
        )
        Tier.objects.bulk_create(
            Tier(action=a, level=1, name="N1", team=team, after_occurrences=5) for a in created
        )

    add_actions(10)
    small = per_trigger_ms()
    add_actions(10_000)
    large = per_trigger_ms()
    row(
        "per-trigger cost, 10 vs 10,000 actions (ingest + process, in-process)",
        f"{small:.2f} vs {large:.2f} ms ({large / small:.2f}x)",
        "<= 1.2x",
    )
    Incident.objects.filter(action__code__startswith="S").delete()
    now = timezone.now()
    scale_actions = list(Action.objects.filter(code__startswith="S").order_by("code"))

    def open_incidents(total):
        have = Incident.objects.filter(action__code__startswith="S").count()
        Incident.objects.bulk_create(
            Incident(action=a, occurrences=1, opened_at=now, last_occurrence_at=now, policy={})
            for a in scale_actions[have:total]
        )

    open_incidents(10)
    small = per_trigger_ms()
    open_incidents(10_000)
    large = per_trigger_ms()
    row(
        "per-trigger cost, 10 vs 10,000 open incidents",
        f"{small:.2f} vs {large:.2f} ms ({large / small:.2f}x)",
        "<= 1.2x",
    )


def print_table(cores):
    import platform

    print_rows(
        f"cxhub ingest benchmark — {platform.node()}, {cores} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


if __name__ == "__main__":
    main()
