"""Acknowledge, resolve and silence through the API and the signed link in a page."""

import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from incidents import services
from incidents.models import Incident, Integration
from incidents.outreach import links
from notifications.channels import locmem
from notifications.models import Delivery
from notifications.services import delivery_send


def post_original(times):
    integration, _ = Integration.objects.get_or_create(name="tests", defaults={"token_hash": "x"})
    for _ in range(times):
        rep, _ = services.report_ingest(
            integration=integration,
            triggers=[{"service": "login", "code": "503"}],
            payload={},
        )
        services.report_process(rep.id)
    return Incident.objects.exclude(status="resolved").first()


def send_all():
    for delivery_id in Delivery.objects.filter(status="pending").values_list("id", flat=True):
        delivery_send(delivery_id)


@pytest.fixture
def staff_client(db):
    user = User.objects.create_user("ana", is_staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_create(user=user, name='tests')[1]}")
    return client


def notices():
    return Delivery.objects.filter(purpose=Delivery.Purpose.NOTICE)


def test_acknowledge_by_api_tells_every_paged_channel_who_acknowledged(scenario, staff_client):
    incident = post_original(20)  # N1 and N2 paged
    send_all()
    response = staff_client.post(
        f"/api/v1/incidents/{incident.pk}/acknowledge", {"note": "on it"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_by"] == "ana"
    assert [e["kind"] for e in body["timeline"]][-2:] == ["acknowledged", "teams_told"]
    assert sorted(n.team.slug for n in notices()) == ["n1", "n2"]
    send_all()
    told = [m for m in locmem.outbox if "acknowledged by ana" in m["title"]]
    assert sorted(m["target"] for m in told) == ["n1", "n2"]
    assert "on it" in told[0]["body"]


def test_second_acknowledge_is_409_and_tells_nobody_again(scenario, staff_client):
    incident = post_original(10)
    send_all()
    url = f"/api/v1/incidents/{incident.pk}/acknowledge"
    assert staff_client.post(url).status_code == 200
    response = staff_client.post(url)
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The incident is already acknowledged (by ana).",
        "status": "acknowledged",
    }
    assert notices().count() == 1


def test_resolve_by_api_with_a_note_tells_paged_teams_and_queues_the_all_clear(
    scenario, staff_client
):
    incident = post_original(10)
    send_all()
    url = f"/api/v1/incidents/{incident.pk}/resolve"
    response = staff_client.post(url, {"note": "rolled back"}, format="json")
    assert response.status_code == 200
    timeline = response.json()["timeline"]
    resolved = next(e for e in timeline if e["kind"] == "resolved")
    assert (resolved["actor"], resolved["detail"]) == ("ana", "rolled back")
    assert {e["kind"] for e in timeline} >= {"teams_told", "all_clear_queued"}
    assert [n.team.slug for n in notices()] == ["n1"]
    assert Delivery.objects.filter(purpose="all_clear").count() == 1
    again = staff_client.post(url)
    assert again.status_code == 409
    assert again.json()["detail"] == "The incident is already resolved (by ana)."


def test_acknowledging_a_resolved_incident_is_409(scenario, staff_client):
    incident = post_original(1)
    services.incident_resolve(incident_id=incident.pk, by="bia")
    response = staff_client.post(f"/api/v1/incidents/{incident.pk}/acknowledge")
    assert response.status_code == 409
    assert response.json()["status"] == "resolved"


def test_unknown_incident_is_404_and_a_bad_note_is_400(scenario, staff_client):
    assert staff_client.post(f"/api/v1/incidents/{uuid.uuid4()}/acknowledge").status_code == 404
    incident = post_original(1)
    response = staff_client.post(
        f"/api/v1/incidents/{incident.pk}/resolve", {"note": "x" * 1001}, format="json"
    )
    assert response.status_code == 400
    assert "note" in response.json()
    incident.refresh_from_db()
    assert incident.status == "open"


def test_lifecycle_api_needs_staff(scenario, integration_token):
    incident = post_original(1)
    url = f"/api/v1/incidents/{incident.pk}/acknowledge"
    assert APIClient().post(url).status_code in (401, 403)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token}")
    assert client.post(url).status_code in (401, 403)
    incident.refresh_from_db()
    assert incident.status == "open"


def test_silence_by_api_holds_pages_and_zero_minutes_ends_it(scenario, staff_client):
    incident = post_original(1)
    url = f"/api/v1/incidents/{incident.pk}/silence"
    missing = staff_client.post(url, {}, format="json")
    assert missing.status_code == 400
    assert "minutes" in missing.json()
    response = staff_client.post(url, {"minutes": 30}, format="json")
    assert response.status_code == 200
    assert response.json()["silenced_by"] == "ana"
    post_original(15)
    assert not Delivery.objects.filter(purpose="page").exists()
    assert staff_client.post(url, {"minutes": 0}, format="json").status_code == 200
    assert Delivery.objects.filter(purpose="page", tier_level=1).count() == 1
    assert staff_client.post(url, {"minutes": 0}, format="json").status_code == 409


# The one-click link in every page message


def ack_link_in_page():
    page = Delivery.objects.filter(purpose="page").first()
    match = re.search(r"Acknowledge: http://[^/]+(/incidents/\S+)", page.message)
    assert match, page.message
    return match.group(1)


def test_every_page_carries_a_link_that_acknowledges_after_login_and_confirm(
    scenario, client, admin_user
):
    incident = post_original(10)
    path = ack_link_in_page()
    assert path.startswith(f"/incidents/{incident.pk}/acknowledge/")

    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")

    client.force_login(admin_user)
    page = client.get(path)
    assert page.status_code == 200
    assert b"Acknowledge as admin" in page.content
    incident.refresh_from_db()
    assert incident.status == "open"  # a GET (a link preview) acknowledges nothing

    done = client.post(path, {"note": "looking"})
    assert done.status_code == 200
    assert b"Acknowledged by you" in done.content
    incident.refresh_from_db()
    assert (incident.status, incident.acknowledged_by) == ("acknowledged", "admin")
    assert incident.events.get(kind="acknowledged").detail == "looking"
    assert b"already acknowledged" in client.post(path).content


def test_a_link_is_useless_for_another_incident_and_when_tampered(scenario, admin_client):
    incident = post_original(1)
    token = links.acknowledge_token(incident.pk)
    other = uuid.uuid4()
    assert admin_client.get(f"/incidents/{other}/acknowledge/{token}").status_code == 404
    other_token = links.acknowledge_token(other)
    assert (
        admin_client.post(f"/incidents/{incident.pk}/acknowledge/{other_token}").status_code == 404
    )
    assert admin_client.post(f"/incidents/{incident.pk}/acknowledge/{token}x").status_code == 404
    incident.refresh_from_db()
    assert incident.status == "open"


def test_a_link_expires(scenario, admin_client, settings):
    settings.CXHUB_ACK_LINK_MAX_AGE = timedelta(hours=24)
    incident = post_original(1)
    path = f"/incidents/{incident.pk}/acknowledge/{links.acknowledge_token(incident.pk)}"
    with time_machine.travel(timezone.now() + timedelta(hours=23)):
        assert admin_client.get(path).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        response = admin_client.post(path)
    assert response.status_code == 410
    assert b"expired" in response.content
    incident.refresh_from_db()
    assert incident.status == "open"


def test_non_staff_user_is_sent_to_login(scenario, client):
    incident = post_original(1)
    client.force_login(User.objects.create_user("customer"))
    path = f"/incidents/{incident.pk}/acknowledge/{links.acknowledge_token(incident.pk)}"
    assert client.post(path).status_code == 302
    incident.refresh_from_db()
    assert incident.status == "open"
