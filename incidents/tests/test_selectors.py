"""The one incident search: the API's list and the support pages ask the same question."""

from datetime import timedelta

import pytest
from django.utils import timezone

from actions.models import Action, Service, TriggerRule
from incidents.models import Incident
from support.selectors import incident_search


@pytest.fixture
def incidents(scenario):
    """Three incidents: login (two rules) open today, resolved last week, pix acknowledged."""
    now = timezone.now()
    pix = Service.objects.get(slug="pix")
    other = Action.objects.create(code="0002", name="Pix fora", push_threshold=None)
    TriggerRule.objects.create(action=other, service=pix, code="500")
    login = scenario["action"]
    return [
        Incident.objects.create(
            action=login, opened_at=now, last_occurrence_at=now, occurrences=3, policy={}
        ),
        Incident.objects.create(
            action=login,
            status=Incident.Status.RESOLVED,
            opened_at=now - timedelta(days=6),
            last_occurrence_at=now - timedelta(days=6),
            resolved_at=now - timedelta(days=6),
            policy={},
        ),
        Incident.objects.create(
            action=other,
            status=Incident.Status.ACKNOWLEDGED,
            opened_at=now - timedelta(hours=1),
            last_occurrence_at=now,
            policy={},
        ),
    ]


@pytest.mark.parametrize(
    ("api", "support"),
    [
        ("", {}),
        ("status=open", {"status": "open"}),
        ("status=resolved", {"status": "resolved"}),
        ("service=login", {"service": "login"}),
        ("service=LOGIN", {"service": "LOGIN"}),
        ("service=pix&status=acknowledged", {"service": "pix", "status": "acknowledged"}),
        ("action=0002", {"action": "0002"}),
        ("action=9999", {"action": "9999"}),
    ],
)
def test_the_api_and_the_support_list_find_the_same_incidents(
    incidents, admin_client, api, support
):
    response = admin_client.get(f"/api/v1/incidents/?{api}")
    assert response.status_code == 200, response.content
    listed = [row["id"] for row in response.json()["results"]]
    assert listed == [str(i.pk) for i in incident_search(**support)]


def test_a_period_finds_the_same_incidents_by_either_path(incidents, admin_client):
    week_ago = (timezone.localdate() - timedelta(days=6)).isoformat()
    response = admin_client.get(f"/api/v1/incidents/?since={week_ago}")
    listed = [row["id"] for row in response.json()["results"]]
    assert listed == [str(i.pk) for i in incident_search(period="7d")]
    assert len(listed) == 3
