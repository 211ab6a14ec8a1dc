import re
from datetime import timedelta

from django.utils import timezone

from actions.models import Action, Service, TriggerRule
from incidents import services as incidents
from incidents.models import Incident
from notifications.tests.helpers import post


def page(client, lang="en"):
    response = client.get(f"/status/?lang={lang}")
    assert response.status_code == 200
    return response.content.decode()


def test_status_page_shows_the_open_incident_then_its_end(visible, integration, client):
    html = page(client)
    assert "All services are operating normally." in html
    assert "Login no app" in html and "No incidents in this period." in html
    incident = post(integration, times=1)
    from statuspage.views import pages

    pages.clear()
    html = page(client)
    assert "Some services are unavailable." in html
    assert "Unavailable since" in html
    assert "Login no app unavailable" in html and "Ongoing" in html
    Incident.objects.filter(pk=incident.pk).update(opened_at=timezone.now() - timedelta(minutes=75))
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    pages.clear()
    html = page(client)
    assert "All services are operating normally." in html
    assert "Duration: 1 h 15 min" in html
    # Nothing internal: no action code or name, no team.
    for internal in ("0001", "MS de Login sem resposta", "Analista N1", "Coordenação", "test"):
        assert internal not in html


def test_only_what_the_admin_chose_appears(visible, client):
    hidden = Action.objects.create(code="0099", name="Internal batch job")
    batch = Service.objects.create(slug="batch", name="Batch interno")
    TriggerRule.objects.create(action=hidden, service=batch, code="*")
    now = timezone.now()
    Incident.objects.create(action=hidden, opened_at=now, last_occurrence_at=now, policy={})
    Incident.objects.create(
        action=visible["action"],
        opened_at=now - timedelta(days=91),
        last_occurrence_at=now - timedelta(days=91),
        resolved_at=now - timedelta(days=91),
        status="resolved",
        policy={},
    )
    html = page(client)
    assert "Batch interno" not in html  # a service not marked customer-facing
    assert "No incidents in this period." in html  # hidden action, and one too old
    assert "Incidents of the last 90 days" in html


def test_status_page_speaks_portuguese_and_needs_no_cdn(visible, client):
    html = page(client, "pt-br")
    assert '<html lang="pt-br">' in html
    assert "Todos os serviços estão funcionando normalmente." in html
    assert '<meta name="viewport"' in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    response = client.get("/status/", HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert "Situação dos serviços" in response.content.decode()
    assert response["Cache-Control"].startswith("public")
