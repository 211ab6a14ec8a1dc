"""Lifecycle timers with a real Celery worker + beat: quiet period, repeat, ack timeout.

Time is controlled by moving stored times back (as test_end_to_end does), then
letting the real beat sweep find what is due; no sleeps.
"""

import re
from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from actions.models import Action
from conftest import ORIGINAL_PAYLOAD, make_scenario
from incidents.models import Incident, Integration
from notifications.models import Delivery
from tests.worker import running_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TEAMS = ("n1", "n2", "coordenacao", "triage")


@pytest.fixture
def worker(transactional_db, tmp_path, http_sink):
    env = {
        "CXHUB_PUSH_PROVIDER": "webhook",
        "CXHUB_PUSH_WEBHOOK_URL": f"{http_sink.url}/push",
        "CXHUB_PUSH_WEBHOOK_SECRET": "e2e",
    }
    with running_worker(tmp_path, env) as worker:
        yield worker


@pytest.fixture
def world(worker, http_sink):
    apprise_base = http_sink.url.replace("http://", "json://")
    scenario = make_scenario(
        channel_kind="apprise", targets={slug: f"{apprise_base}/{slug}" for slug in TEAMS}
    )
    integration = Integration(name="monitoring")
    token = integration.set_new_token()
    integration.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    def post(times):
        for _ in range(times):
            assert (
                client.post("/api/v1/triggers", ORIGINAL_PAYLOAD, format="json").status_code == 202
            )

    def counted(n):
        return wait_for(
            lambda: Incident.objects.filter(occurrences=n).first(),
            timeout=30,
            message=f"{n} occurrences counted",
        )

    def messages(path):
        return http_sink.json(path)

    def sweeps_pass(n=3):
        seen = worker.output().count("incidents.tasks.sweep")
        wait_for(
            lambda: worker.output().count("incidents.tasks.sweep") >= seen + n,
            timeout=20,
            message=f"{n} more sweeps",
        )

    scenario.update(post=post, counted=counted, messages=messages, sweeps_pass=sweeps_pass)
    return scenario


def move_back(incident, **minutes):
    """Move stored times back and ask the sweep to look now."""
    Incident.objects.filter(pk=incident.pk).update(
        next_check_at=timezone.now(),
        **{field: F(field) - timedelta(minutes=m) for field, m in minutes.items()},
    )


def test_acknowledge_link_holds_n2_and_quiet_period_resolves_with_all_clear(world, admin_user):
    Action.objects.filter(pk=world["action"].pk).update(quiet_minutes=10)
    world["post"](12)
    incident = world["counted"](12)
    wait_for(
        lambda: world["messages"]("/n1") and world["messages"]("/push"),
        timeout=30,
        message="push and N1 page sent",
    )

    # The responder follows the link in the page: login, confirm.
    [page] = world["messages"]("/n1")
    path = re.search(r"Acknowledge: http://[^/]+(/\S+)", page["message"]).group(1)
    browser = Client()
    assert browser.get(path).status_code == 302  # to the admin login
    browser.force_login(admin_user)
    assert browser.post(path).status_code == 200
    incident.refresh_from_db()
    assert (incident.status, incident.acknowledged_by) == ("acknowledged", "admin")
    wait_for(lambda: len(world["messages"]("/n1")) == 2, timeout=30, message="N1 told")
    assert "acknowledged by admin" in world["messages"]("/n1")[1]["title"]

    # Past N2's count and time while acknowledged: N2 is never paged.
    world["post"](10)
    world["counted"](22)
    move_back(incident, opened_at=25)
    world["sweeps_pass"]()
    assert world["messages"]("/n2") == []

    # Monitoring goes quiet for the quiet period: the sweep resolves it.
    move_back(incident, last_occurrence_at=11)
    wait_for(
        lambda: Incident.objects.filter(pk=incident.pk, status="resolved").exists(),
        timeout=20,
        message="resolved by the quiet period",
    )
    wait_for(lambda: len(world["messages"]("/push")) == 2, timeout=30, message="all-clear sent")
    all_clear = world["messages"]("/push")[1]
    assert {r["message"] for r in all_clear["recipients"]} == {"Voltamos a funcionar"}
    wait_for(lambda: len(world["messages"]("/n1")) == 3, timeout=30, message="N1 told resolved")
    assert "resolved by cxhub (quiet period)" in world["messages"]("/n1")[2]["title"]
    incident.refresh_from_db()
    assert incident.resolved_by == "cxhub (quiet period)"
    kinds = list(incident.events.values_list("kind", flat=True))
    for kind in (
        "opened",
        "push_queued",
        "tier_paged",
        "delivery_sent",
        "occurrence",
        "acknowledged",
        "teams_told",
        "resolved",
        "all_clear_queued",
    ):
        assert kind in kinds, kinds
    assert kinds.index("acknowledged") < kinds.index("resolved") < kinds.index("all_clear_queued")
    assert "tier_paged" not in kinds[kinds.index("acknowledged") :]
    world["sweeps_pass"]()
    assert world["messages"]("/n2") == []


def test_unacknowledged_incident_repages_its_highest_tier_each_interval(world):
    Action.objects.filter(pk=world["action"].pk).update(repeat_minutes=10)
    world["post"](10)
    incident = world["counted"](10)
    wait_for(lambda: world["messages"]("/n1"), timeout=30, message="N1 paged")

    move_back(incident, last_paged_at=10)
    wait_for(lambda: len(world["messages"]("/n1")) == 2, timeout=20, message="first repeat")
    assert "repeat 1" in world["messages"]("/n1")[1]["title"]
    world["sweeps_pass"]()
    assert len(world["messages"]("/n1")) == 2  # once per interval, never a double

    move_back(incident, last_paged_at=10)
    wait_for(lambda: len(world["messages"]("/n1")) == 3, timeout=20, message="second repeat")
    keys = sorted(Delivery.objects.filter(purpose="page").values_list("key", flat=True))
    assert [k for k in keys if not k.endswith(":r1") and not k.endswith(":r2")] == keys[:1]
    assert world["messages"]("/n2") == []


def test_acknowledgement_times_out_and_escalation_resumes(world):
    from incidents import services

    Action.objects.filter(pk=world["action"].pk).update(ack_timeout_minutes=15)
    world["post"](10)
    incident = world["counted"](10)
    wait_for(lambda: world["messages"]("/n1"), timeout=30, message="N1 paged")
    assert services.incident_acknowledge(incident_id=incident.pk, by="ana")

    move_back(incident, opened_at=21)  # N2's 20 minutes have passed, but it is acknowledged
    world["sweeps_pass"]()
    assert world["messages"]("/n2") == []

    move_back(incident, acknowledged_at=16)
    wait_for(lambda: world["messages"]("/n2"), timeout=20, message="N2 paged after the timeout")
    incident.refresh_from_db()
    assert incident.status == "open"
    assert "ack_expired" in incident.events.values_list("kind", flat=True)
    assert len(world["messages"]("/n1")) == 2  # the page and the "acknowledged by ana" notice


def test_maintenance_holds_everything_and_the_sweep_escalates_at_its_end(world):
    from incidents import services
    from incidents.models import MaintenanceWindow

    now = timezone.now()
    window = MaintenanceWindow.objects.create(
        service=world["login"],
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        reason="Login DB upgrade",
    )
    world["post"](12)
    incident = world["counted"](12)
    world["sweeps_pass"]()
    incident.refresh_from_db()
    assert incident.maintenance_id == window.pk
    assert incident.next_check_at == window.ends_at
    assert world["messages"]("/push") == [] and world["messages"]("/n1") == []

    # The window is shortened to end in two seconds (as an admin edit does): the sweep
    # looks at its end, not before, and normal escalation starts from 12 occurrences.
    MaintenanceWindow.objects.filter(pk=window.pk).update(
        ends_at=timezone.now() + timedelta(seconds=2)
    )
    window.refresh_from_db()
    services.maintenance_saved(window)
    wait_for(
        lambda: world["messages"]("/push") and world["messages"]("/n1"),
        timeout=30,
        message="push and N1 page after the window",
    )
    incident.refresh_from_db()
    kinds = list(incident.events.values_list("kind", flat=True))
    assert kinds.index("maintenance") < kinds.index("maintenance_ended") < kinds.index("tier_paged")
    ended = incident.events.get(kind="maintenance_ended")
    assert ended.at >= window.ends_at
    assert world["messages"]("/n2") == []
