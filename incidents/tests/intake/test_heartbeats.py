"""Heartbeat checks: a silent signal opens an incident that pages; its return resolves it."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from rest_framework.test import APIClient

from actions.models import Action, Service, Tier
from incidents.intake.heartbeats import heartbeat_rule_ensure, heartbeats_check
from incidents.models import HeartbeatCheck, Incident, Report
from incidents.tests.senders import alert, make_integration, notification, process_all


@pytest.fixture
def blind_pix(scenario):
    """An action paging N1 at the first occurrence: "monitoring of pix is blind"."""
    action = Action.objects.create(code="0099", name="Monitoramento do Pix cego")
    Tier.objects.create(
        action=action,
        level=1,
        name="Analista N1",
        team=scenario["teams"]["n1"],
        after_occurrences=1,
    )
    return action


def make_check(action, **fields):
    check = HeartbeatCheck(
        name="pix-exporter",
        service=Service.objects.get(slug="pix"),
        action=action,
        expected_minutes=5,
        grace_minutes=2,
        **fields,
    )
    token = check.set_new_token()
    check.save()
    heartbeat_rule_ensure(check)
    return check, token


def test_ping_by_get_or_post_records_the_signal(blind_pix):
    check, token = make_check(blind_pix)
    client = APIClient()
    assert client.get(f"/api/v1/heartbeats/{token}").json() == {"status": "ok"}
    assert client.post(f"/api/v1/heartbeats/{token}/").status_code == 200
    check.refresh_from_db()
    assert check.last_seen_at is not None
    assert check.state == "up"
    assert client.post("/api/v1/heartbeats/not-a-token").status_code == 401
    HeartbeatCheck.objects.filter(pk=check.pk).update(enabled=False)
    assert client.post(f"/api/v1/heartbeats/{token}").status_code == 403


def test_silence_past_grace_opens_an_incident_that_pages_and_the_return_resolves_it(blind_pix):
    check, token = make_check(blind_pix)
    APIClient().post(f"/api/v1/heartbeats/{token}")
    check.refresh_from_db()
    # Within expected + grace (7 minutes): nothing.
    assert heartbeats_check(now=check.last_seen_at + timedelta(minutes=6)) == {
        "silent": 0,
        "back": 0,
    }
    late = check.last_seen_at + timedelta(minutes=7, seconds=1)
    assert heartbeats_check(now=late) == {"silent": 1, "back": 0}
    assert heartbeats_check(now=late + timedelta(seconds=5))["silent"] == 0  # once
    process_all()
    incident = Incident.objects.get()
    assert incident.action == blind_pix
    firing = incident.events.get(kind="alert_firing").detail
    assert "monitoring of pix is blind" in firing
    page = incident.deliveries.get()
    assert (page.tier_level, page.team.slug) == (1, "n1")
    check.refresh_from_db()
    assert check.state == "down"

    with time_machine.travel(late + timedelta(minutes=1)):
        APIClient().get(f"/api/v1/heartbeats/{token}")
        assert heartbeats_check()["back"] == 1
    process_all()
    incident.refresh_from_db()
    assert incident.status == "resolved"
    check.refresh_from_db()
    assert check.state == "up"


def test_a_check_never_heard_goes_silent_from_its_creation(blind_pix):
    check, _ = make_check(blind_pix)
    assert heartbeats_check(now=check.created_at + timedelta(minutes=8))["silent"] == 1


def test_watchdog_alert_feeds_the_check_and_is_not_a_trigger(blind_pix):
    integration, token = make_integration("alertmanager")
    check, _ = make_check(blind_pix, integration=integration)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    watchdog = {**alert(name="Watchdog", fingerprint="wd"), "labels": {"alertname": "Watchdog"}}
    response = client.post(
        "/api/v1/integrations/alertmanager/", notification(watchdog), format="json"
    )
    assert response.status_code == 202
    assert not Report.objects.exists()
    check.refresh_from_db()
    assert check.last_seen_at is not None
    # With other alerts, those are recorded and the Watchdog is still only the signal.
    response = client.post(
        "/api/v1/integrations/alertmanager/",
        notification(watchdog, alert(name="HighErrorRate")),
        format="json",
    )
    assert [t["code"] for t in response.json()["triggers"]] == ["HighErrorRate"]


def test_heartbeat_command_creates_a_check_and_its_rule(blind_pix, capsys):
    call_command(
        "heartbeat", "create", "--name", "cron-pix", "--service", "pix", "--action", "0099"
    )
    out = capsys.readouterr().out
    assert "/api/v1/heartbeats/" in out
    check = HeartbeatCheck.objects.get(name="cron-pix")
    assert blind_pix.rules.filter(service__slug="pix", code="heartbeat").exists()
    assert check.state == "new"


def test_admin_adds_a_check_shows_its_ping_url_once_and_lists_its_state(blind_pix, admin_client):
    response = admin_client.post(
        "/admin/incidents/heartbeatcheck/add/",
        {
            "name": "cron-boletos",
            "service": Service.objects.get(slug="pix").pk,
            "action": blind_pix.pk,
            "signal_alertname": "Watchdog",
            "expected_minutes": 10,
            "grace_minutes": 5,
            "enabled": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any("/api/v1/heartbeats/" in m for m in shown), shown
    token = shown[0].split("/api/v1/heartbeats/")[1].split(" ")[0]
    assert APIClient().post(f"/api/v1/heartbeats/{token}").status_code == 200
    assert blind_pix.rules.filter(service__slug="pix", code="heartbeat").exists()
    page = admin_client.get("/admin/incidents/heartbeatcheck/").content.decode()
    assert "cron-boletos" in page and ">Up<" in page
