"""Real senders against cxhub under gunicorn: PagerDuty's official client (over https) and a
chunked Alertmanager notification. The counting is the worker's code, run here."""

import json
import ssl
from datetime import UTC, datetime, timedelta

import pagerduty
import pytest
import requests
from django.utils import timezone

from actions.models import Action, Service, Tier, TriggerRule
from conftest import make_scenario
from incidents.intake.heartbeats import heartbeat_rule_ensure
from incidents.models import ChangeEvent, HeartbeatCheck, Incident, Integration
from incidents.tests.senders import alert, notification, process_all
from tests.processes import Gunicorn, self_signed_certificate
from tests.test_drills import web_env
from tests.worker import running_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def new_integration(kind) -> str:
    integration = Integration(name=f"real-{kind}", kind=kind)
    token = integration.set_new_token()
    integration.save()
    return token


@pytest.fixture
def https_web(tmp_path):
    certfile, keyfile = self_signed_certificate(tmp_path)
    web = Gunicorn(
        tmp_path / "web.log", web_env(tmp_path), workers=1, threads=4, tls=(certfile, keyfile)
    )
    try:
        yield web.start(), certfile
    finally:
        web.stop()
        print(web.output()[-3000:])


def test_pagerduty_official_client_triggers_acknowledges_resolves_and_sends_changes(https_web):
    web, certfile = https_web
    make_scenario()
    token = new_integration("pagerduty")
    client = pagerduty.EventsApiV2Client(
        token, base_url=web.url, verify=ssl.create_default_context(cafile=str(certfile))
    )
    key = client.trigger(
        "Login returning 503",
        "login-api-01",
        dedup_key="login-503",
        payload={"component": "login", "class": "503"},
        custom_details={"errors_per_minute": 120},
    )
    assert key == "login-503"
    # The client's own default timestamp is broken in 7.2.0 (datetime.timezone): give one.
    client.submit(
        "Deploy login-api v2.31.0",
        source="github-actions",
        custom_details={"service": "login"},
        timestamp=datetime.now(UTC).isoformat(),
    )
    process_all()
    incident = Incident.objects.get()
    assert (incident.status, incident.occurrences) == ("open", 1)
    # A re-sent trigger of the same key is a duplicate, as in PagerDuty.
    client.trigger(
        "Login returning 503",
        "login-api-01",
        dedup_key="login-503",
        payload={"component": "login", "class": "503"},
    )
    client.acknowledge("login-503")
    process_all()
    incident.refresh_from_db()
    assert (incident.status, incident.occurrences) == ("acknowledged", 1)
    client.resolve("login-503")
    process_all()
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_by) == ("resolved", "pagerduty")
    change = ChangeEvent.objects.get()
    assert (change.service, change.source) == ("login", "github-actions")


def test_chunked_notification_is_read_whole_and_an_oversize_one_is_413(tmp_path):
    scenario = make_scenario()
    TriggerRule.objects.create(
        action=scenario["action"], service=scenario["login"], code="HighErrorRate"
    )
    token = new_integration("alertmanager")
    limit = 1024 * 1024
    web = Gunicorn(
        tmp_path / "web.log",
        web_env(tmp_path, CXHUB_MONITORING_MAX_BODY=str(2 * limit)),
        workers=1,
        threads=2,
    ).start()
    try:
        url = f"{web.url}/api/v1/integrations/alertmanager/{token}/"

        def chunked(alerts):
            body = json.dumps(notification(*alerts)).encode()
            # A generator body: requests sends it chunked, with no Content-Length.
            chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
            headers = {"Content-Type": "application/json"}
            return len(body), requests.post(url, data=chunks, headers=headers, timeout=30)

        size, response = chunked(alert(fingerprint=f"fp{n}", note="x" * 1000) for n in range(1200))
        assert limit < size < 2 * limit
        assert response.status_code == 202, response.text[:300]
        assert len(response.json()["triggers"]) == 1200
        size, response = chunked(alert(fingerprint=f"fp{n}", note="x" * 1000) for n in range(2500))
        assert size > 2 * limit
        assert response.status_code == 413
        assert "max_alerts" in response.json()["detail"] or "larger than 2 MiB" in response.text
    finally:
        web.stop()
        print(web.output()[-3000:])
    process_all()
    assert Incident.objects.get().occurrences == 1200


def test_a_silent_heartbeat_opens_a_paging_incident_and_its_return_resolves_it(tmp_path):
    """The real beat runs the heartbeat task: silence pages the action's team, a ping ends it."""
    scenario = make_scenario(channel_kind="console")
    blind = Action.objects.create(code="0099", name="Monitoramento do Pix cego")
    Tier.objects.create(
        action=blind, level=1, name="Analista N1", team=scenario["teams"]["n1"], after_occurrences=1
    )
    check = HeartbeatCheck(
        name="pix-exporter",
        service=Service.objects.get(slug="pix"),
        action=blind,
        expected_minutes=5,
        grace_minutes=2,
    )
    token = check.set_new_token()
    check.save()
    heartbeat_rule_ensure(check)
    # Last heard 8 minutes ago: past expected + grace.
    HeartbeatCheck.objects.filter(pk=check.pk).update(
        state="up", last_seen_at=timezone.now() - timedelta(minutes=8)
    )
    web = Gunicorn(tmp_path / "web.log", web_env(tmp_path), workers=1, threads=2).start()
    try:
        with running_worker(tmp_path, env={"CXHUB_HEARTBEAT_SECONDS": "1"}) as worker:
            incident = wait_for(
                lambda: Incident.objects.filter(action=blind).first(),
                timeout=30,
                message="incident opened by the silent heartbeat",
            )
            wait_for(
                lambda: "PAGE to n1 | [cxhub] 0099" in worker.output(),
                timeout=30,
                message="N1 paged",
            )
            assert requests.post(f"{web.url}/api/v1/heartbeats/{token}", timeout=5).ok

            def resolved():
                incident.refresh_from_db()
                return incident.status == "resolved"

            wait_for(resolved, timeout=30, message="resolved when the signal returned")
    finally:
        web.stop()
    check.refresh_from_db()
    assert check.state == "up"
    assert "monitoring of pix is blind" in incident.events.get(kind="alert_firing").detail
