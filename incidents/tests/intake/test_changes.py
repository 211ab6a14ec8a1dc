"""Change events: PagerDuty's /v2/change/enqueue and /api/v1/changes, shown near incidents."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import post_original
from incidents.intake.changes import changes_near
from incidents.models import ChangeEvent, Incident
from incidents.tests.senders import make_integration


@pytest.fixture
def pd(db):
    return make_integration("pagerduty", name="ci")


def change_event(token, **payload):
    return {
        "routing_key": token,
        "payload": {
            "summary": "Deploy login-api v2.31.0",
            "timestamp": timezone.now().isoformat(),
            "source": "github-actions",
            "custom_details": {"service": "login", "commit": "9f2c1ab"},
            **payload,
        },
        "links": [{"href": "https://ci.example/run/812", "text": "run 812"}],
    }


def test_pagerduty_change_event_is_recorded_and_answered_like_pagerduty(pd):
    integration, token = pd
    response = APIClient().post("/v2/change/enqueue", change_event(token), format="json")
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Change event processed"}
    change = ChangeEvent.objects.get()
    assert (change.service, change.source, change.integration) == (
        "login",
        "github-actions",
        integration,
    )
    assert change.links == [{"href": "https://ci.example/run/812", "text": "run 812"}]
    assert change.details["commit"] == "9f2c1ab"


def test_pagerduty_change_event_errors_name_the_field(pd):
    _, token = pd
    client = APIClient()
    response = client.post("/v2/change/enqueue/", change_event(token, summary=""), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == ["'payload.summary' missing or blank."]
    response = client.post("/v2/change/enqueue", change_event("nope"), format="json")
    assert response.status_code == 400
    assert not ChangeEvent.objects.exists()


def test_generic_change_needs_an_integration_token_and_names_bad_fields(db):
    _, token = make_integration("generic", name="deployer")
    client = APIClient()
    body = {"service": "Login", "summary": "Feature flag pix-v2 on", "source": "flags"}
    assert client.post("/api/v1/changes", body, format="json").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post("/api/v1/changes/", body, format="json")
    assert response.status_code == 201
    assert response.json()["service"] == "login"
    response = client.post(
        "/api/v1/changes", {"service": "login", "at": "yesterday"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"summary"}
    response = client.post("/api/v1/changes", {**body, "at": "not a time"}, format="json")
    assert response.json() == {"at": ["not an ISO 8601 time."]}


def test_incident_shows_changes_of_its_services_from_an_hour_before_it_opened(
    scenario, admin_client
):
    now = timezone.now()
    for minutes, service, summary in [
        (90, "login", "too early"),
        (30, "login", "Deploy login-api v2.31.0"),
        (10, "pix", "another service"),
    ]:
        ChangeEvent.objects.create(
            service=service, summary=summary, at=now - timedelta(minutes=minutes), received_at=now
        )
    post_original()
    incident = Incident.objects.get()
    assert [c.summary for c in changes_near(incident)] == ["Deploy login-api v2.31.0"]
    detail = admin_client.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert [c["summary"] for c in detail["changes"]] == ["Deploy login-api v2.31.0"]
    page = admin_client.get(f"/support/incidents/{incident.pk}/").content.decode()
    assert page.count("Deploy login-api v2.31.0") == 2  # the changes section and the timeline
    assert "too early" not in page and "another service" not in page
