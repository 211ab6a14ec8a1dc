"""Storm drills: the monitoring flood cxhub exists for, with real processes.

PostgreSQL + Redis only (the configuration a storm meets in production). Each
drill has a deadline on every wait; the timing limits here are loose (a loaded
machine), `bench/storm.py` measures the targets themselves.
"""

import json
import os
import signal
import time

import pytest
import requests
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from incidents.models import AlertInstance, Incident, Integration, Report, TimelineEvent
from notifications.models import Channel, Delivery, Team
from tests.processes import Gunicorn
from tests.storm import (
    Receiver,
    alertmanager_notification,
    alerts_action,
    probe_actions,
    probe_body,
    small_posts_during,
)
from tests.worker import Worker, database_url, purge_queues, running_worker, wait_for

pytestmark = [
    pytest.mark.drill,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("not postgresql_and_redis()", reason="storm drills need PostgreSQL + Redis"),
]


def postgresql_and_redis() -> bool:
    return connection.vendor == "postgresql" and settings.CELERY_BROKER_URL.startswith("redis")


CONSOLE_PUSH = {"CXHUB_PUSH_PROVIDER": "console"}


def integration_token(kind=Integration.Kind.CXHUB) -> str:
    integration = Integration(name=f"storm-{kind}", kind=kind)
    token = integration.set_new_token()
    integration.save()
    return token


def web(tmp_path) -> Gunicorn:
    """The Procfile's web shape: gunicorn, 2 workers, on the test database and broker."""
    env = {
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CXHUB_VAR_DIR": str(settings.VAR_DIR),
        "CXHUB_PUSH_PROVIDER": "console",
    }
    return Gunicorn(tmp_path / "web.log", env, workers=2, threads=1)


def post_json(client, path, body: str, token: str):
    return client.post(
        path, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def team_with_channel(slug: str, target: str) -> Team:
    team = Team.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]
    Channel.objects.filter(team=team).delete()
    Channel.objects.create(team=team, kind="apprise", target=target)
    return team


def test_send_paused_past_its_lease_reaches_the_receiver_once(tmp_path):
    """Freeze the worker mid-send past the lease: the copy is dropped or never made.

    The receiver holds the page while the sending worker is stopped (SIGSTOP, as a
    long GC pause or a frozen VM would); a second worker's sweep finds the claim
    expired and may send again. Delivered once, or every copy carries the same
    Idempotency-Key so the receiver can drop the copy; either way recorded once.
    """
    receiver = Receiver(hold="/page")
    team = team_with_channel("oncall", f"{receiver.apprise}/page")
    [slug] = probe_actions(1, team=team)
    token = integration_token()
    env = {
        "CXHUB_PUSH_PROVIDER": "console",
        "CXHUB_HTTP_TIMEOUT": "2",
        "CXHUB_DELIVERY_LEASE_SECONDS": "5",  # > twice the timeout
    }
    purge_queues()
    paused = Worker(tmp_path, env=env).start()
    (tmp_path / "second").mkdir()
    second = Worker(tmp_path / "second", env=env)
    try:
        response = post_json(APIClient(), "/api/v1/triggers", probe_body(slug), token)
        assert response.status_code == 202
        assert receiver.held.wait(timeout=30), "the page never reached the receiver"
        os.killpg(paused.process.pid, signal.SIGSTOP)
        receiver.release()  # the answer waits in the frozen sender's socket
        second.start()
        # The lease (5 s) runs out, the second worker's sweep (1 s) releases the claim.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(receiver.to("/page")) < 2:
            time.sleep(0.2)
        os.killpg(paused.process.pid, signal.SIGCONT)
        # A warm shutdown of the main process only: the late send finishes and records.
        os.kill(paused.process.pid, signal.SIGTERM)
        paused.process.wait(timeout=30)
        wait_for(
            lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() == 1,
            timeout=20,
            message="the page recorded as sent",
        )
        second.stop()
        copies = receiver.to("/page")
        keys = [copy.idempotency_key() for copy in copies]
        sent_events = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.DELIVERY_SENT).count()
        print(f"{len(copies)} cop(ies) reached the receiver, keys {keys}; {sent_events} 'sent'")
        assert len(copies) == 1 or (all(keys) and len(set(keys)) == 1), (
            f"{len(copies)} copies of one page, keys {keys}: the receiver cannot drop the copy"
        )
        assert sent_events == 1, f"the page was recorded as sent {sent_events} times"
    finally:
        if paused.process and paused.process.poll() is None:
            os.killpg(paused.process.pid, signal.SIGCONT)
        paused.stop()
        second.stop()
        receiver.close()
        print(paused.output()[-3000:])


def test_triage_storm_does_not_hold_back_a_real_page(tmp_path):
    """1,000 uncovered services at once, then a real tier-1 page: it arrives in seconds."""
    # A chat webhook answering in 50 ms: 1,000 triage pages take two workers ~25 s.
    receiver = Receiver(delays={"triage": 0.05})
    team_with_channel(settings.CXHUB_TRIAGE_TEAM, f"{receiver.apprise}/triage")
    team = team_with_channel("oncall", f"{receiver.apprise}/page")
    [slug] = probe_actions(1, team=team)
    token = integration_token()
    storm = json.dumps(
        {"gatilhos": [{"servico": f"uncovered{n}", "retorno": "500"} for n in range(1000)]}
    )
    client = APIClient()
    try:
        with running_worker(tmp_path, env=CONSOLE_PUSH):
            assert post_json(client, "/api/v1/triggers", storm, token).status_code == 202
            wait_for(lambda: receiver.to("/triage"), timeout=60, message="triage pages going out")
            posted = time.monotonic()
            assert post_json(client, "/api/v1/triggers", probe_body(slug), token).status_code == 202
            page = wait_for(lambda: receiver.to("/page"), timeout=60, message="the real page")
            waited = page[0].at - posted
            triage = len(receiver.to("/triage"))
            print(f"the tier-1 page arrived {waited:.2f}s after its trigger; {triage} triage sent")
            assert waited < 5, f"the tier-1 page waited {waited:.1f}s behind the triage storm"
    finally:
        receiver.close()


def test_five_thousand_alert_notification_is_all_counted(tmp_path):
    """One Alertmanager group of 5,000 realistic alerts: 202, and every alert counted."""
    alerts_action()
    token = integration_token(Integration.Kind.ALERTMANAGER)
    body = json.dumps(alertmanager_notification(5000))
    server = web(tmp_path).start()
    try:
        with running_worker(tmp_path, env=CONSOLE_PUSH):
            started = time.monotonic()
            response = requests.post(
                f"{server.url}/api/v1/integrations/alertmanager/",
                data=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                timeout=60,
            )
            answered = time.monotonic() - started
            assert response.status_code == 202, (
                f"{len(body) / 2**20:.1f} MiB notification: {response.status_code} "
                f"{response.text[:300]}"
            )
            wait_for(
                lambda: (
                    AlertInstance.objects.count() == 5000
                    and not Report.objects.filter(processed_at=None).exists()
                ),
                timeout=180,
                interval=0.5,
                message="5,000 alerts counted",
            )
            counted = time.monotonic() - started
            print(f"202 in {answered:.2f}s for {len(body) / 2**20:.1f} MiB; counted {counted:.1f}s")
            assert Incident.objects.get().occurrences == 5000
    finally:
        server.stop()
        print(server.output()[-2000:])


def test_small_post_answers_while_a_big_one_is_processed(tmp_path):
    """1-alert notifications on the same integration answer fast during a 1,000-alert one."""
    alerts_action()
    token = integration_token(Integration.Kind.ALERTMANAGER)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    server = web(tmp_path).start()
    url = f"{server.url}/api/v1/integrations/alertmanager/"
    http = requests.Session()

    def post(body):
        response = http.post(url, data=json.dumps(body), headers=headers, timeout=30)
        assert response.status_code == 202, response.text[:300]
        return response.json()["report"]

    try:
        with running_worker(tmp_path, env=CONSOLE_PUSH):
            big = post(alertmanager_notification(1000))
            latencies = small_posts_during(
                lambda n: post(alertmanager_notification(1, first=1000 + n)),
                lambda: Report.objects.filter(id=big, processed_at=None).exists(),
            )
            slowest = max(latencies)
            print(f"{len(latencies)} 1-alert posts during the big one; slowest {slowest:.3f}s")
            assert slowest < 1.0, f"a 1-alert post waited {slowest:.2f}s on the worker"
            total = 1000 + len(latencies)
            wait_for(
                lambda: (
                    AlertInstance.objects.count() == total
                    and not Report.objects.filter(processed_at=None).exists()
                ),
                timeout=120,
                interval=0.5,
                message=f"all {total} alerts counted",
            )
    finally:
        server.stop()
