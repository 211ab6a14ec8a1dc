"""Reach on the support pages: pushed to N devices of M customers, 0 in red; search; notes."""

import re

import pytest
from django.urls import reverse

from actions.models import Service, TriggerRule
from incidents.models import Incident
from support.tests.test_views import post_triggers

pytestmark = pytest.mark.usefixtures("eager_celery")


@pytest.fixture
def incident(scenario, ingest_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_triggers(ingest_client, 6)
    return Incident.objects.get()


def test_list_and_page_say_how_many_devices_and_customers_were_pushed(
    client, support_user, incident
):
    client.force_login(support_user)
    listing = client.get(reverse("support:incidents")).content.decode()
    assert "pushed to 3 devices of 2 customers" in listing
    page = client.get(reverse("support:incident", args=[incident.pk])).content.decode()
    assert 'id="reach"' in page
    # The facts, and the timeline's push row, both carry the reach.
    assert page.count("pushed to 3 devices of 2 customers") == 2
    for header in ("Duration", "Last occurrence", "Acknowledged by", "Customers reached"):
        assert header in listing


def test_a_push_that_reached_nobody_shows_zero_in_red(
    client, support_user, scenario, ingest_client, django_capture_on_commit_callbacks
):
    action = scenario["action"]
    boleto = Service.objects.create(slug="boleto", name="Boleto")
    TriggerRule.objects.filter(action=action).update(service=boleto)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(6):
            ingest_client.post(
                "/api/v1/triggers",
                {"gatilhos": [{"servico": "boleto", "retorno": "503"}]},
                format="json",
            )
    incident = Incident.objects.get()
    assert incident.push_queued_at is not None
    client.force_login(support_user)
    listing = client.get(reverse("support:incidents")).content.decode()
    assert re.search(r'class="reach zero"[^>]*>pushed to 0 devices of 0 customers', listing)


def test_search_finds_an_incident_by_its_id_and_by_a_customers_id(client, support_user, incident):
    client.force_login(support_user)
    url = reverse("support:incidents")
    detail = reverse("support:incident", args=[incident.pk])
    for q in (str(incident.pk), incident.pk.hex, f"http://127.0.0.1:8000{detail}"):
        assert detail in client.get(url, {"q": q}).content.decode(), q
    assert detail in client.get(url, {"q": "c1"}).content.decode()
    assert detail not in client.get(url, {"q": "c3"}).content.decode()  # not a login customer


def test_acknowledge_takes_a_note_from_the_support_page(client, support_user, incident):
    client.force_login(support_user)
    url = reverse("support:incident", args=[incident.pk])
    assert 'name="note"' in client.get(url).content.decode()
    client.post(f"{url}acknowledge/", {"note": "looking at the login pods"})
    incident.refresh_from_db()
    assert incident.status == Incident.Status.ACKNOWLEDGED
    assert incident.events.filter(detail__contains="looking at the login pods").exists()


def test_times_are_shown_with_their_offset(client, support_user, incident):
    client.force_login(support_user)
    page = client.get(reverse("support:incident", args=[incident.pk])).content.decode()
    assert "UTC-0300" in page
