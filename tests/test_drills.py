"""Fault drills: real processes, faults injected into servers these tests own.

The suite's database stays up; the broker or database being faulted is a
throwaway instance started here. Each drill has a deadline on every wait.
"""

import os
import select
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection
from django.utils import timezone

from conftest import ORIGINAL_PAYLOAD, make_scenario
from incidents.counting.opening import incident_count_occurrence
from incidents.lifecycle.evaluation import incident_check
from incidents.models import Incident, Integration, Report, Trigger
from notifications.models import Channel, Delivery
from tests.processes import (
    Gunicorn,
    PostgresCluster,
    RedisServer,
    postgres_bindir,
    redis_binary,
)
from tests.worker import ROOT, Worker, database_url, purge_queues, wait_for

pytestmark = [pytest.mark.drill, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

needs_redis = pytest.mark.skipif(redis_binary() is None, reason="redis-server is not installed")
needs_postgres_binaries = pytest.mark.skipif(
    postgres_bindir() is None, reason="PostgreSQL server binaries are not installed"
)


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def new_token() -> str:
    integration = Integration(name="monitoring")
    token = integration.set_new_token()
    integration.save()
    return token


def web_env(tmp_path, **extra) -> dict:
    return {
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CXHUB_VAR_DIR": str(settings.VAR_DIR),
        **extra,
    }


@needs_redis
def test_redis_outage_loses_no_accepted_trigger(tmp_path, scenario):
    """Stop Redis while triggers arrive: 202s stay fast, all are counted once it returns."""
    redis = RedisServer().start()
    env = {"CELERY_BROKER_URL": redis.url, "CXHUB_PUSH_PROVIDER": "console"}
    web = Gunicorn(tmp_path / "web.log", web_env(tmp_path, **env), workers=1, threads=4)
    worker = Worker(tmp_path, env=env)
    token = new_token()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        web.start()
        worker.start()
        http = requests.Session()

        def post():
            start = time.monotonic()
            response = http.post(
                f"{web.url}/api/v1/triggers", json=ORIGINAL_PAYLOAD, headers=headers, timeout=10
            )
            return response, time.monotonic() - start

        for _ in range(5):
            assert post()[0].status_code == 202
        redis.stop()
        outage = [post() for _ in range(20)]
        assert [r.status_code for r, _ in outage] == [202] * 20
        slowest = max(seconds for _, seconds in outage)
        # Publishing gives up at once on a refused connection: no request hangs.
        assert slowest < 1.0, f"a request took {slowest:.2f}s while Redis was down"
        assert Report.objects.filter(processed_at__isnull=True).count() >= 1

        redis.start()
        returned = time.monotonic()
        for _ in range(5):
            assert post()[0].status_code == 202
        restarts = 0

        def counted_under_supervision():
            # kombu's Redis transport can crash the worker when the connection drops
            # while a late ack is pending ("Unrecoverable error"); production runs
            # the worker under a supervisor that restarts it, as done here.
            nonlocal worker, restarts
            if worker.process.poll() is not None:
                restarts += 1
                (tmp_path / f"restart-{restarts}").mkdir()
                worker = Worker(tmp_path / f"restart-{restarts}", env=env).start()
            return Incident.objects.filter(occurrences=30).exists()

        wait_for(
            counted_under_supervision,
            timeout=60,
            message="all 30 reports counted after Redis returned",
        )
        recovery = time.monotonic() - returned
        assert Report.objects.filter(processed_at__isnull=True).count() == 0
        assert Report.objects.count() == 30
        assert Trigger.objects.filter(incident__isnull=False).count() == 60
        assert Incident.objects.count() == 1
        print(
            f"slowest 202 while Redis was down: {slowest * 1000:.0f} ms; caught up in "
            f"{recovery:.1f}s; worker restarts by the supervisor: {restarts}"
        )
    finally:
        worker.stop()
        web.stop()
        redis.stop()
        print(worker.output()[-3000:])


class SlowSink:
    """An HTTP receiver that takes `delay` seconds to acknowledge each message.

    A message counts as delivered only if the sender is still connected when the
    receiver acknowledges it (a real endpoint processes what it fully answered);
    a sender that died mid-send leaves an aborted, undelivered message.
    """

    def __init__(self, delay: float):
        self.delivered: list[str] = []
        self.aborted: list[str] = []
        self.in_flight = 0
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sink.lock:
                    sink.in_flight += 1
                try:
                    if sink.sender_left(self.connection, delay):
                        with sink.lock:
                            sink.aborted.append(self.path)
                        return
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                    self.wfile.flush()
                    with sink.lock:
                        sink.delivered.append(self.path)
                finally:
                    with sink.lock:
                        sink.in_flight -= 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def sender_left(conn: socket.socket, delay: float) -> bool:
        """Wait `delay` seconds; return True as soon as the peer closes the connection."""
        deadline = time.monotonic() + delay
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([conn], [], [], left)
            if readable and conn.recv(1, socket.MSG_PEEK) == b"":
                return True
        return False

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_worker_killed_mid_send_delivers_every_page_once(tmp_path, scenario):
    """SIGKILL the worker while pages are in flight: all are delivered once, in seconds."""
    sink = SlowSink(delay=1.5)
    base = sink.url.replace("http://", "json://")
    expected = []
    for slug in ("n1", "n2", "coordenacao"):
        Channel.objects.filter(team__slug=slug).delete()
        for n in range(3):
            Channel.objects.create(
                team=scenario["teams"][slug], kind="apprise", target=f"{base}/{slug}-{n}"
            )
            expected.append(f"/{slug}-{n}")
    env = {
        "CXHUB_PUSH_PROVIDER": "console",
        # A claim older than the lease belonged to a dead worker; sends take < 2 s here.
        "CXHUB_DELIVERY_LEASE_SECONDS": "5",
        "CXHUB_HTTP_TIMEOUT": "2",
    }
    purge_queues()
    worker = Worker(tmp_path, env=env).start()
    restarted = None
    try:
        # An incident an hour old: all three tiers (nine pages) fall due at once.
        opened = timezone.now() - timedelta(minutes=61)
        incident = incident_count_occurrence(action_id=scenario["action"].id, at=opened)
        incident_check(incident.pk)
        assert Delivery.objects.filter(purpose=Delivery.Purpose.PAGE).count() == 9

        wait_for(lambda: sink.in_flight > 0, timeout=30, message="a page in flight")
        time.sleep(0.3)  # well inside the 1.5 s acknowledgement
        os.killpg(worker.process.pid, 9)
        worker.process.wait(timeout=10)
        killed = time.monotonic()
        wait_for(lambda: sink.in_flight == 0, timeout=10, message="in-flight sends settled")
        assert sink.aborted, "the kill did not land mid-send"
        delivered_before_restart = len(sink.delivered)

        (tmp_path / "restart").mkdir()
        restarted = Worker(tmp_path / "restart", env=env).start()
        wait_for(
            lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() == 9,
            timeout=60,
            message="all nine pages sent after the restart",
        )
        recovery = time.monotonic() - killed
        assert sorted(sink.delivered) == sorted(expected), sink.delivered
        assert recovery < 30, f"recovery took {recovery:.1f}s"
        print(
            f"killed with {len(sink.aborted)} page(s) in flight and {delivered_before_restart} "
            f"delivered; all 9 delivered once {recovery:.1f}s after the kill"
        )
    finally:
        if restarted:
            restarted.stop()
        worker.stop()
        sink.close()


@pytest.mark.skipif("not on_postgresql()", reason="the concurrency drill needs PostgreSQL")
def test_two_hundred_concurrent_posts(tmp_path, http_sink):
    """200 simultaneous posts of the original payload: one incident counted 200 times."""
    apprise_base = http_sink.url.replace("http://", "json://")
    scenario = make_scenario(
        channel_kind="apprise",
        targets={slug: f"{apprise_base}/{slug}" for slug in ("n1", "n2", "coordenacao", "triage")},
    )
    env = {
        "CXHUB_PUSH_PROVIDER": "webhook",
        "CXHUB_PUSH_WEBHOOK_URL": f"{http_sink.url}/push",
        "CXHUB_PUSH_WEBHOOK_SECRET": "drill",
    }
    token = new_token()
    purge_queues()
    web = Gunicorn(tmp_path / "web.log", web_env(tmp_path, **env), workers=2, threads=25)
    worker = Worker(tmp_path, env=env)
    try:
        web.start()
        worker.start()
        barrier = threading.Barrier(200, timeout=30)

        def post(_):
            barrier.wait()
            return requests.post(
                f"{web.url}/api/v1/triggers",
                json=ORIGINAL_PAYLOAD,
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            ).status_code

        with ThreadPoolExecutor(max_workers=200) as pool:
            statuses = list(pool.map(post, range(200)))
        assert statuses == [202] * 200
        wait_for(
            lambda: Incident.objects.filter(occurrences=200).exists(),
            timeout=90,
            message="200 occurrences counted",
        )
        wait_for(
            lambda: (
                Delivery.objects.exclude(status=Delivery.Status.SENT).count() == 0
                and Delivery.objects.count() == 3
            ),
            timeout=30,
            message="push and two tier pages sent",
        )
        assert Incident.objects.count() == 1
        assert Trigger.objects.filter(incident__isnull=False).count() == 400
        paths = sorted(r["path"] for r in http_sink.requests)
        # 200 occurrences reach tier 1 (10) and tier 2 (20); tier 3 waits for 60 minutes.
        assert paths == ["/n1", "/n2", "/push"]
        [push] = http_sink.json("/push")
        devices = [r["device"] for r in push["recipients"]]
        assert len(devices) == len(set(devices)) == 3
        assert sorted(devices) == sorted(
            t for t, d in scenario["devices"].items() if d.customer.external_id in ("c1", "c2")
        )
    finally:
        worker.stop()
        web.stop()
        print(worker.output()[-3000:])


@needs_postgres_binaries
def test_postgresql_restart_answers_503_and_recovers(tmp_path):
    """Restart the web process's PostgreSQL under load: 503 + Retry-After, then 202 again."""
    cluster = PostgresCluster()
    web = None
    try:
        cluster.init().start()
        cluster.createdb()
        env = {
            "DATABASE_URL": cluster.url,
            "CXHUB_VAR_DIR": str(tmp_path / "var"),
            "CELERY_BROKER_URL": "filesystem://",
        }
        subprocess_env = {**os.environ, **env}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=subprocess_env,
            check=True,
            timeout=120,
        )
        token = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from incidents.models import Integration\n"
                "i = Integration(name='drill'); print(i.set_new_token()); i.save()",
            ],
            cwd=ROOT,
            env=subprocess_env,
            check=True,
            timeout=60,
            capture_output=True,
            text=True,
        ).stdout.split()[-1]
        web = Gunicorn(tmp_path / "web.log", env, workers=1, threads=4).start()

        results = []  # (monotonic time, status, retry-after, report id)
        stop = threading.Event()

        def load():
            http = requests.Session()
            while not stop.is_set():
                response = http.post(
                    f"{web.url}/api/v1/triggers",
                    json=ORIGINAL_PAYLOAD,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                )
                report = response.json().get("report") if response.status_code == 202 else None
                results.append(
                    (
                        time.monotonic(),
                        response.status_code,
                        response.headers.get("Retry-After"),
                        report,
                    )
                )
                time.sleep(0.02)

        threads = [threading.Thread(target=load) for _ in range(3)]
        for thread in threads:
            thread.start()
        try:
            wait_for(lambda: len(results) >= 20, timeout=30, message="load running")
            cluster.stop(mode="fast")
            down = time.monotonic()
            wait_for(
                lambda: any(t > down and s == 503 for t, s, _, _ in results),
                timeout=20,
                message="a 503 while PostgreSQL is down",
            )
            time.sleep(1)
            cluster.start()
            up = time.monotonic()
            wait_for(
                lambda: sum(1 for t, s, _, _ in results if t > up and s == 202) >= 10,
                timeout=30,
                message="202s again after PostgreSQL returned",
            )
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=15)
        statuses = {s for _, s, _, _ in results}
        assert statuses <= {202, 503}, f"unexpected statuses {statuses}"
        assert all(r == "5" for _, s, r, _ in results if s == 503)
        first_back = min(t for t, s, _, _ in results if t > up and s == 202)
        accepted = {report for _, s, _, report in results if s == 202}
        dsn = f"host=127.0.0.1 port={cluster.port} user=postgres dbname=cxhub"
        with psycopg.connect(dsn) as db:
            stored = {str(row[0]) for row in db.execute("select id from incidents_report")}
        assert accepted <= stored, "an accepted report was lost"
        print(
            f"{sum(1 for _, s, _, _ in results if s == 503)} x 503 while down; first 202 "
            f"{first_back - up:.2f}s after PostgreSQL was back; {len(accepted)} accepted, "
            f"all stored"
        )
    finally:
        if web:
            web.stop()
            print(web.output()[-3000:])
        cluster.destroy()
