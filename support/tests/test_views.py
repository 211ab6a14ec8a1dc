import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import ORIGINAL_PAYLOAD
from incidents.models import Incident
from notifications.channels import locmem

pytestmark = pytest.mark.usefixtures("eager_celery")


def post_triggers(client, n):
    for _ in range(n):
        assert client.post("/api/v1/triggers", ORIGINAL_PAYLOAD, format="json").status_code == 202


@pytest.fixture
def incident(scenario, ingest_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_triggers(ingest_client, 11)
    return Incident.objects.get()


def test_support_pages_need_a_login(client, incident):
    for url in (
        reverse("support:incidents"),
        reverse("support:incident", args=[incident.pk]),
        reverse("support:reports"),
        reverse("support:customers"),
        reverse("support:incidents-state"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login"))
        assert "next=" in response["Location"]


def test_a_logged_out_form_post_returns_to_the_incident_page_after_the_login(
    client, support_user, incident
):
    from urllib.parse import parse_qs, urlsplit

    page = reverse("support:incident", args=[incident.pk])
    for url in (
        reverse("support:incident-operate", args=[incident.pk, "acknowledge"]),
        reverse("support:incident-status-update", args=[incident.pk]),
    ):
        response = client.post(url, {"note": "on it"})
        assert response.status_code == 302, url
        login = urlsplit(response["Location"])
        assert login.path == reverse("admin:login")
        assert parse_qs(login.query)["next"] == [page]
    support_user.set_password("pw-for-tests")
    support_user.save()
    logged_in = client.post(
        response["Location"],
        {"username": support_user.username, "password": "pw-for-tests", "next": page},
        follow=True,
    )
    assert logged_in.redirect_chain[-1][0] == page
    assert logged_in.status_code == 200
    # The page holds the button the POST came from.
    acknowledge = reverse("support:incident-operate", args=[incident.pk, "acknowledge"])
    assert f'action="{acknowledge}"' in logged_in.content.decode()
    Incident.objects.filter(pk=incident.pk, acknowledged_at=None).get()  # nothing ran


def test_forbidden_page_says_why_in_the_readers_language(client, django_user_model):
    outsider = django_user_model.objects.create_user("outsider", password="x", is_staff=True)
    client.force_login(outsider)
    response = client.get(reverse("support:reports"), HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert response.status_code == 403
    assert 'lang="pt-br"' in response.content.decode()
    assert "Seu papel não permite esta página" in response.content.decode()
    assert "outsider" in response.content.decode()


def test_list_filters_by_service_and_period(client, support_user, incident):
    old = Incident.objects.create(
        action=incident.action,
        status=Incident.Status.RESOLVED,
        occurrences=3,
        opened_at=timezone.now() - timedelta(days=10),
        last_occurrence_at=timezone.now() - timedelta(days=10),
        policy=incident.policy,
    )
    client.force_login(support_user)
    page = client.get(reverse("support:incidents"))
    assert list(page.context["incidents"]) == [incident, old]
    # The shortcut for yesterday-and-today's login incidents is on the list itself.
    assert b'href="?service=login&amp;period=2d"' in page.content
    recent = client.get(reverse("support:incidents"), {"service": "login", "period": "2d"})
    assert list(recent.context["incidents"]) == [incident]
    assert reverse("support:incident", args=[incident.pk]).encode() in recent.content
    assert list(client.get("/support/", {"period": "yesterday"}).context["incidents"]) == []
    assert list(client.get("/support/", {"status": "resolved"}).context["incidents"]) == [old]
    assert list(client.get("/support/", {"service": "pix"}).context["incidents"]) == []
    assert list(client.get("/support/", {"q": "sem resposta"}).context["incidents"]) == [
        incident,
        old,
    ]
    assert list(client.get("/support/", {"action": "0002"}).context["incidents"]) == [
        incident,
        old,
    ]  # an unknown choice is ignored, not an error page


def test_incident_page_tells_the_whole_story(client, support_user, incident):
    client.force_login(support_user)
    response = client.get(reverse("support:incident", args=[incident.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="occurrences">11<' in html
    pages = response.context["pages"]
    assert [(p.level, p.team, p.status) for p in pages] == [(1, "Analista N1", "sent")]
    [push] = response.context["pushes"]
    assert push.rows == [{"status": "sent", "label": "Sent", "batches": 1, "devices": 3}]
    chart = response.context["chart"]
    assert chart.total == 11
    assert {m.kind for m in chart.markers} == {"push", "page"}
    assert html.count('class="bar"') == len(chart.bars)
    assert 'class="marker push"' in html and 'class="marker page"' in html
    assert "Tier paged" in html and "Push queued" in html
    assert 'value="acknowledge"' in html and 'value="resolve"' in html
    assert 'data-refresh-url="' in html
    # The page sent to the paged team links here.
    [page] = [m for m in locmem.outbox if m["target"] == "n1"]
    assert f"/support/incidents/{incident.pk}/" in page["body"]


def test_support_acknowledges_and_resolves_from_the_page(client, support_user, incident):
    client.force_login(support_user)
    url = reverse("support:incident", args=[incident.pk])
    response = client.post(f"{url}acknowledge/", follow=True)
    assert response.redirect_chain[-1][0] == url
    incident.refresh_from_db()
    assert incident.status == Incident.Status.ACKNOWLEDGED
    assert incident.acknowledged_by == "sam-support"
    assert 'value="acknowledge"' not in response.content.decode()
    # Resolve asks first, saying how many devices the all-clear reaches.
    asked = client.post(f"{url}resolve/").content.decode()
    assert "Resolving sends the all-clear to 3 devices of 2 customers" in asked
    incident.refresh_from_db()
    assert incident.status == Incident.Status.ACKNOWLEDGED
    client.post(f"{url}resolve/", {"confirmed": "yes", "note": "DB failover done"})
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert incident.events.filter(kind="resolved", detail__contains="DB failover done").exists()
    # A resolved incident's page no longer polls for changes.
    assert "data-refresh-url" not in client.get(url).content.decode()


def test_cx_staff_sees_incidents_but_cannot_respond(client, cx_user, incident):
    client.force_login(cx_user)
    url = reverse("support:incident", args=[incident.pk])
    html = client.get(url).content.decode()
    assert 'value="acknowledge"' not in html
    assert client.post(f"{url}acknowledge/").status_code == 403
    incident.refresh_from_db()
    assert incident.status == Incident.Status.OPEN


def test_unknown_operation_is_not_found(client, support_user, incident):
    client.force_login(support_user)
    url = reverse("support:incident", args=[incident.pk])
    assert client.post(f"{url}explode/").status_code == 404
    assert client.get(f"{url}acknowledge/").status_code == 405


def test_state_changes_when_an_occurrence_arrives(
    client, support_user, incident, ingest_client, django_capture_on_commit_callbacks
):
    client.force_login(support_user)
    state_url = reverse("support:incident-state", args=[incident.pk])
    before = client.get(state_url).json()
    list_before = client.get(reverse("support:incidents-state")).json()["version"]
    assert before["occurrences"] == 11
    with django_capture_on_commit_callbacks(execute=True):
        post_triggers(ingest_client, 1)
    after = client.get(state_url).json()
    assert after["occurrences"] == 12
    assert after["version"] != before["version"]
    assert client.get(reverse("support:incidents-state")).json()["version"] != list_before


def test_pages_speak_portuguese_to_a_portuguese_browser(client, support_user, incident):
    client.force_login(support_user)
    url = reverse("support:incident", args=[incident.pk])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9").content.decode()
    assert "Quem foi acionado" in html
    assert "Reconhecer" in html
    assert "Who was paged" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_chart_coordinates_stay_numbers_in_portuguese(client, support_user, incident):
    client.force_login(support_user)
    url = reverse("support:incident", args=[incident.pk])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert re.findall(r'(?:x|y|width|height)="[^"]*,', svg) == []
    assert "Ocorrências ao longo do tempo" in html


def test_chart_legend_names_every_mark_kind_in_portuguese(client, support_user, incident):
    client.force_login(support_user)
    html = client.get(
        reverse("support:incident", args=[incident.pk]), HTTP_ACCEPT_LANGUAGE="pt-BR"
    ).content.decode()
    legend = html[html.index("<figcaption>", html.index('id="chart"')) :]
    legend = legend[: legend.index("</figcaption>")]
    keys = re.findall(r'<span class="key ([a-z_]+)"></span>\s*([^<]+?)\s*(?=<|$)', legend)
    assert dict(keys) == {
        "bar": "ocorrências por intervalo",
        "push": "push aos clientes",
        "page": "acionamento de nível",
        "acknowledged": "reconhecido",
        "ack_expired": "reconhecimento expirou",
        "silenced": "silenciado",
        "resolved": "resolvido",
        "reopened": "reaberto",
    }


def test_list_pages_keep_their_filters(client, support_user, scenario):
    now = timezone.now()
    for minutes in range(30):
        Incident.objects.create(
            action=scenario["action"],
            status=Incident.Status.RESOLVED,
            occurrences=1,
            opened_at=now - timedelta(minutes=minutes),
            last_occurrence_at=now - timedelta(minutes=minutes),
            policy={},
        )
    client.force_login(support_user)
    first = client.get("/support/", {"service": "login", "period": "7d"})
    assert len(first.context["incidents"]) == 25
    assert b"?service=login&amp;period=7d&amp;page=2" in first.content
    second = client.get("/support/", {"service": "login", "period": "7d", "page": 2})
    assert len(second.context["incidents"]) == 5
    assert second.context["incidents"][0].opened_at == now - timedelta(minutes=25)
