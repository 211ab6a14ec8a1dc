"""Storm benchmark: the Procfile's processes on durable PostgreSQL and Redis, under wrk.

    .venv/bin/python bench/storm.py [--seconds 8] [--triage-seconds 150]

Starts its own PostgreSQL cluster with the durable defaults (fsync and synchronous
commit on) and Redis on free loopback ports, then every process of the Procfile
from its own line, exactly as `./run` does: `web` (gunicorn, 2 workers), the Celery
workers with the Procfile's queues and options, and `beat`. It loads them with
`wrk` (16 connections) and plain HTTP posts, reads CPU time from /proc, prints a
table of figures beside the targets of issue 14, and stops everything it started.
Not run in CI. It exits non-zero only when something breaks (a process dies, a
bounded wait runs out).
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    launch,
    percentile,
    print_rows,
    row,
    say,
    started,
    stop_started,
    wrk,
)
from bench.load import BrokerMonitor, Probes  # noqa: E402
from tests.processes import (  # noqa: E402
    PostgresCluster,
    ProcfileProcess,
    RedisServer,
    free_port,
    port_open,
    procfile_commands,
)
from tests.storm import (  # noqa: E402
    ONE_TRIGGER,
    Receiver,
    alertmanager_notification,
    alerts_action,
    cpu_seconds,
    peak_rss_mb,
    probe_actions,
    probe_body,
    small_posts_during,
)
from tests.worker import wait_for  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration per run")
    parser.add_argument(
        "--triage-seconds", type=int, default=150, help="longest the triage storm is watched"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="cxhub-storm-"))
    cluster, redis = PostgresCluster(durable=True), RedisServer()
    load_before = os.getloadavg()
    try:
        say("starting PostgreSQL (fsync on) and Redis")
        cluster.init().start()
        cluster.createdb()
        redis.start()
        env = {
            "DATABASE_URL": cluster.url,
            "CELERY_BROKER_URL": redis.url,
            "CXHUB_VAR_DIR": str(tmp / "var"),
            "DJANGO_SETTINGS_MODULE": "cxhub.settings",
            "CXHUB_PUSH_PROVIDER": "console",
            "CXHUB_PORT": str(free_port()),
        }
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        run(args, tmp, env, cluster, redis)
    finally:
        stop_started()
        redis.stop()
        cluster.destroy()
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(load_before, os.getloadavg())


def run(args, tmp, env, cluster, redis):

    from conftest import make_scenario
    from incidents.models import AlertInstance, Integration, Report
    from notifications.models import Channel, Delivery

    receiver = Receiver(delays={"triage": 0.1})  # a chat webhook answering in 100 ms
    make_scenario(channel_kind="console")
    Channel.objects.filter(team__slug="triage").update(
        kind="apprise", target=f"{receiver.apprise}/triage"
    )
    # Each probe pages a team of its own (path /page/<probe>): its arrival names it.
    probes = probe_actions(4 * args.seconds + 1, target=f"{receiver.apprise}/page")
    alerts_action()
    cxhub = Integration(name="storm")
    token = cxhub.set_new_token()
    cxhub.save()
    alertmanager = Integration(name="alertmanager", kind=Integration.Kind.ALERTMANAGER)
    am_token = alertmanager.set_new_token()
    alertmanager.save()

    web = launch(ProcfileProcess("web", tmp / "web.log", env))
    # The public side: the buffering proxy in front of gunicorn, when the Procfile has one.
    front = [
        launch(ProcfileProcess(n, tmp / f"{n}.log", env))
        for n in ("proxy",)
        if n in procfile_commands()
    ]
    wait_for(lambda: port_open(int(env["CXHUB_PORT"])), timeout=60, message="web up")
    base = f"http://127.0.0.1:{env['CXHUB_PORT']}"
    # Every other Procfile line: beat, and one or more Celery workers (they log "ready.").
    kinds = {n: c for n, c in procfile_commands().items() if n not in ("web", "proxy")}
    workers = [n for n, c in kinds.items() if " worker" in c]
    others = [launch(ProcfileProcess(n, tmp / f"{n}.log", env)) for n in kinds if n not in workers]

    def start_workers(run=""):
        return [
            launch(ProcfileProcess(n, tmp / f"{n}{run}.log", env, ready="ready.")) for n in workers
        ]

    launched = time.monotonic()
    worker = start_workers()
    # What starting the workers costs with nothing to count, to take off the drain below.
    startup_seconds = time.monotonic() - launched
    startup_cpu = sum(cpu_seconds(p.pid) for p in worker)

    def backlog():
        return Report.objects.filter(processed_at__isnull=True).count()

    def cpu(*processes):
        return sum(cpu_seconds(p) for p in processes)

    pg = cluster.postmaster_pid()
    # Warm up: open the login incident, fill every process's caches.
    wrk(f"{base}/api/v1/triggers", body=ONE_TRIGGER, token=token, seconds=2, tmp=tmp)
    wait_for(lambda: backlog() == 0, timeout=120, interval=0.2, message="warm-up counted")

    say("loading /healthz, then ingest with the worker counting (probes every 0.25 s)")
    health, _, hp50, hp99 = wrk(f"{base}/healthz", seconds=args.seconds, tmp=tmp)
    row(
        "/healthz of the same server: requests/s (p50 / p99)",
        f"{health:,.0f} ({hp50:.1f} / {hp99:.1f} ms)",
    )
    reports_before = Report.objects.count()
    parts = {"web": [web.pid], "workers": [p.pid for p in worker], "PostgreSQL": [pg]}
    if front:
        parts["proxy"] = [p.pid for p in front]
    parts["beat"] = [p.pid for p in others]
    part_before = {name: cpu(*pids) for name, pids in parts.items()}
    cpu_before = sum(part_before.values())
    redis_before = cpu_seconds(redis.process.pid)
    wall = time.monotonic()
    load = Probes(base, token, probes[: 4 * args.seconds], receiver, every=0.25)
    load.thread.start()
    rate, bad, p50, p99 = wrk(
        f"{base}/api/v1/triggers", body=ONE_TRIGGER, token=token, seconds=args.seconds, tmp=tmp
    )
    load.stopping.set()
    load.thread.join(timeout=30)
    ran = time.monotonic() - wall
    left = backlog()
    accepted = Report.objects.count() - reports_before
    stopped_at = time.monotonic()
    wait_for(lambda: backlog() == 0, timeout=300, interval=0.05, message="backlog counted")
    empty_after = time.monotonic() - stopped_at
    counted_during = accepted - left
    wait_for(
        lambda: len(load.latencies_ms()) >= len(load.posted),
        timeout=120,
        message="every probe paged",
    )
    part_spent = {name: cpu(*pids) - part_before[name] for name, pids in parts.items()}
    spent = sum(part_spent.values())
    redis_spent = cpu_seconds(redis.process.pid) - redis_before
    row(
        "ingest, 1 trigger/request, worker counting: requests/s (p50 / p99)",
        f"{rate:,.0f} ({p50:.1f} / {p99:.1f} ms)" + (f", {bad} non-2xx" if bad else ""),
    )
    row("  ratio to /healthz", f"{rate / health:.2f}", ">= 0.4 [0.05]")
    row(
        "accepted/s vs counted/s during the load",
        f"{accepted / ran:,.0f} vs {counted_during / ran:,.0f} ({counted_during / accepted:.2f}x)",
        ">= 1.0x [0.93-0.98]",
    )
    row(
        "backlog when the load stopped; time until empty",
        f"{left:,} reports; {empty_after:.1f} s",
        "empty within 2 s",
    )
    row(
        f"CPU per trigger end to end (web + {' + '.join(kinds)} + PostgreSQL)",
        f"{spent * 1000 / accepted:.2f} ms ({spent:.1f} s for {accepted:,}: "
        + ", ".join(f"{n} {t * 1000 / accepted:.2f}" for n, t in part_spent.items())
        + f"; Redis +{redis_spent * 1000 / accepted:.2f} ms)",
        "<= 3 ms [14-21 ms]",
    )
    lat = load.latencies_ms()
    row(
        f"page latency of probes under that load: p50 / p99 ({len(lat)} probes)",
        f"{percentile(lat, 50):,.0f} / {percentile(lat, 99):,.0f} ms "
        f"(max {max(lat, default=0):,.0f}; {sum(x > 500 for x in lat)} over 500 ms)",
        "p99 < 500 ms [2,130 ms]",
    )

    say("the same with the workers stopped")
    for process in worker:
        process.stop()
        started.remove(process)
    health_stopped, _, _, _ = wrk(f"{base}/healthz", seconds=args.seconds, tmp=tmp)
    reports_before = Report.objects.count()
    cpu_before = cpu(web.pid, pg)
    rate_stopped, bad, p50, p99 = wrk(
        f"{base}/api/v1/triggers", body=ONE_TRIGGER, token=token, seconds=args.seconds, tmp=tmp
    )
    accepted = Report.objects.count() - reports_before
    ingest_cpu = cpu(web.pid, pg) - cpu_before
    row(
        "ingest, workers stopped: requests/s (p50 / p99) vs /healthz",
        f"{rate_stopped:,.0f} ({p50:.1f} / {p99:.1f} ms) vs {health_stopped:,.0f}"
        + (f", {bad} non-2xx" if bad else ""),
    )
    row("  ratio to /healthz", f"{rate_stopped / health_stopped:.2f}", ">= 0.6 [0.21]")
    row(
        "  CPU per trigger of ingest alone (web + PostgreSQL)",
        f"{ingest_cpu * 1000 / accepted:.2f} ms",
    )
    waiting = backlog()
    cpu_before = cpu(pg)
    # The drain starts while the workers are still starting; time and CPU are taken from
    # their launch, less what the first start-up (nothing to count) took.
    start = time.monotonic()
    worker = start_workers("-2")
    wait_for(lambda: backlog() == 0, timeout=300, interval=0.05, message="stored backlog counted")
    drained = time.monotonic() - start
    counting_cpu = cpu(pg, *(p.pid for p in worker)) - cpu_before - startup_cpu
    row(
        f"workers ({', '.join(workers)}) started on that backlog: counted after",
        f"{drained:.1f} s for {waiting:,} (start-up alone {startup_seconds:.1f} s); "
        f"~{max(counting_cpu, 0) * 1000 / waiting:.2f} ms CPU each",
    )

    alertmanager_storm(base, am_token, AlertInstance, Report, worker)
    triage_storm(args, base, token, probes[-1], receiver, redis, Delivery, Report)
    receiver.close()


def alertmanager_storm(base, token, AlertInstance, Report, worker):
    import requests

    say("Alertmanager: 1,000 alerts, then 1 while they are counted, then 5,000")
    http = requests.Session()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    url = f"{base}/api/v1/integrations/alertmanager/"

    def post(body):
        start = time.monotonic()
        response = http.post(url, data=body, headers=headers, timeout=60)
        return response, time.monotonic() - start

    thousand = json.dumps(alertmanager_notification(1000))
    first = time.monotonic()
    response, took = post(thousand)
    row(
        "Alertmanager, 1,000 alerts: status, answered in",
        f"{response.status_code}, {took * 1000:,.0f} ms ({len(thousand) / 2**20:.2f} MiB)",
    )
    big = response.json().get("report") if response.status_code == 202 else None
    expected = 1000 if big else 0
    small = []

    def post_small(n):
        response, took = post(json.dumps(alertmanager_notification(1, first=1000 + n)))
        small.append(response.status_code)

    latencies = small_posts_during(
        post_small, lambda: Report.objects.filter(id=big, processed_at__isnull=True).exists()
    )
    expected += small.count(202)
    ms = sorted(t * 1000 for t in latencies)
    row(
        "  1-alert posts on the same integration while it is counted: slowest (median)",
        f"{ms[-1]:,.0f} ms ({percentile(ms, 50):,.0f} ms of {len(ms)}; "
        f"statuses {sorted(set(small))})",
        "< 200 ms [4.4-15.2 s]",
    )
    five = json.dumps(alertmanager_notification(5000, first=1000 + len(small)))
    response, took = post(five)
    expected += 5000 if response.status_code == 202 else 0
    row(
        "  then 5,000 alerts: status, answered in",
        f"{response.status_code}, {took * 1000:,.0f} ms ({len(five) / 2**20:.2f} MiB)"
        + ("" if response.status_code == 202 else f": {response.text[:120]}"),
        "202 [400]",
    )
    wait_for(
        lambda: (
            AlertInstance.objects.count() >= expected
            and not Report.objects.filter(processed_at__isnull=True).exists()
        ),
        timeout=300,
        interval=0.1,
        message="every accepted alert counted",
    )
    row(
        "  every accepted alert counted after",
        f"{time.monotonic() - first:.1f} s ({AlertInstance.objects.count():,} of "
        f"{6000 + len(small):,} sent)",
        "all counted [the 5,000 refused]",
    )
    peak = max(peak_rss_mb(p.pid) for p in worker)
    row("  worker peak RSS (largest process)", f"{peak:.0f} MB", "< 300 MB")


def triage_storm(args, base, token, probe, receiver, redis, Delivery, Report):
    import requests

    say("triage storm: 1,000 uncovered services in one post, then a real tier-1 page")
    http = requests.Session()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    storm = json.dumps(
        {"gatilhos": [{"servico": f"uncovered{n}", "retorno": "500"} for n in range(1000)]}
    )
    triage = Delivery.objects.filter(purpose=Delivery.Purpose.TRIAGE)
    monitor = BrokerMonitor(redis.port).start()
    start = time.monotonic()
    http.post(f"{base}/api/v1/triggers", data=storm, headers=headers, timeout=60).raise_for_status()
    try:  # the real page goes in once triage work is queued (a digest may take a while)
        wait_for(lambda: triage.exists(), timeout=30, interval=0.05)
    except AssertionError:
        say("no triage delivery within 30 s; the real page goes in anyway")
    posted = time.monotonic()
    page = None
    http.post(
        f"{base}/api/v1/triggers", data=probe_body(probe), headers=headers, timeout=60
    ).raise_for_status()
    deadline = start + args.triage_seconds
    while time.monotonic() < deadline:
        if page is None and (arrived := receiver.to(f"/page/{probe}")):
            page = arrived[0].at - posted
        if page is not None and not triage.exclude(status=Delivery.Status.SENT).exists():
            break
        time.sleep(0.2)
    watched = time.monotonic() - start
    published = monitor.stop()
    created = triage.count() + 1  # and the probe's page
    sends = sum(n for name, n in published.items() if re.search("deliver|send|page", name))
    row(
        "triage storm: deliveries created; triage pages received",
        f"{created - 1:,} triage + 1 page; {len(receiver.to('/triage')):,} in {watched:.0f} s",
    )
    row(
        "  broker publishes per pending delivery",
        f"{sends / created:.2f} ({sends:,} send messages; all publishes: "
        + ", ".join(f"{name.rsplit('.', 1)[-1]} {n:,}" for name, n in sorted(published.items()))
        + ")",
        "<= 1.2 [~34]",
    )
    row(
        "  a real tier-1 page behind it waited",
        f"{page:.1f} s" if page is not None else f"> {watched:.0f} s (not arrived)",
        "< 2 s [2.5 min]",
    )


def print_table(load_before, load_after):
    import platform

    print_rows(
        f"cxhub storm benchmark — {platform.node()}, {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after",
        "target [before issue 14]",
    )


if __name__ == "__main__":
    main()
