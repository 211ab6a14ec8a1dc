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
    from statuspage.views import pages

    post(integration, times=4)  # below the push threshold (5): customers are not told yet
    pages.clear()
    assert "All services are operating normally." in page(client)
    incident = post(integration, times=1)
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
    assert "Nenhuma manutenção programada." in html and "há 90 dias" in html
    assert '<meta name="viewport"' in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    response = client.get("/status/", HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert "Situação dos serviços" in response.content.decode()
    assert response["Cache-Control"].startswith("public")


def test_the_page_shows_ninety_bars_with_the_days_incidents_on_focus(visible, integration, client):
    incident = post(integration, times=5)
    Incident.objects.filter(pk=incident.pk).update(opened_at=timezone.now() - timedelta(hours=1))
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    html = page(client)
    bars = re.search(r'<ol class="bars" aria-label="([^"]+)">(.*?)</ol>', html, re.S)
    assert bars and "Login no app:" in bars.group(1) and "in the last 90 days" in bars.group(1)
    days = re.findall(r"<li[ >]", bars.group(2))
    assert len(days) == 90
    # The day with the incident can take focus (tap, keyboard) and says what happened.
    focusable = re.findall(r'<li class="(\w+)" tabindex="0"><span class="tip">(.*?)</span>', html)
    assert len(focusable) in (1, 2)  # two when the hour crossed local midnight
    assert all("Unavailable from" in tip and "% up" in tip for _level, tip in focusable)
    # One script, from cxhub's own static files: it only suggests the reader's time zone.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/statuspage/zone.js" defer>']


def test_maintenance_ahead_and_running_show_on_the_page(visible, client):
    from incidents.models import MaintenanceWindow

    now = timezone.now()
    MaintenanceWindow.objects.create(
        service=visible["login"],
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=2),
        reason="Atualização do sistema de login",
        status_visible=True,
    )
    MaintenanceWindow.objects.create(
        service=visible["login"],
        starts_at=now + timedelta(days=4),
        ends_at=now + timedelta(days=4, hours=2),
        reason="internal hold",  # not marked for the page
    )
    html = page(client)
    assert "Scheduled maintenance" in html
    assert "Atualização do sistema de login" in html and "internal hold" not in html
    assert "All services are operating normally." in html
    MaintenanceWindow.objects.create(
        action=visible["action"],
        starts_at=now - timedelta(minutes=10),
        ends_at=now + timedelta(minutes=50),
        reason="Troca de certificado",
        status_visible=True,
    )
    from statuspage.views import pages

    pages.clear()
    html = page(client)
    assert "Scheduled maintenance is in progress." in html
    assert "Maintenance until" in html


def test_a_recurring_window_is_listed_once_with_its_next_starts():
    from statuspage.selectors import PageWindow
    from statuspage.views import maintenance_ahead

    now = timezone.now()

    def window(days, recurrence=None, reason="r"):
        start = now + timedelta(days=days)
        return PageWindow(start, start + timedelta(hours=2), reason, (1,), ("Pix",), recurrence)

    rows = maintenance_ahead(
        [window(-0.01, 7), window(1, 7), window(2), window(8, 7), window(15, 7)], now=now
    )
    assert [(row["window"].starts_at, len(row["also"])) for row in rows] == [
        (now + timedelta(days=1), 2),
        (now + timedelta(days=2), 0),
    ]
