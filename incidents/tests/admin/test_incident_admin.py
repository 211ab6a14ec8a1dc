from django.contrib.messages import get_messages

from conftest import post_original
from incidents.models import Incident, Integration, hash_token


def open_incident(times=1):
    post_original(times)
    return Incident.objects.get()


def test_acknowledge_and_resolve_from_the_admin(scenario, admin_client):
    incident = open_incident()
    url = "/admin/incidents/incident/"
    admin_client.post(url, {"action": "acknowledge", "_selected_action": [incident.pk]})
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    assert incident.acknowledged_by == "admin"
    # Resolve asks first, with what the all-clear will reach (a push needs 5 occurrences).
    asked = admin_client.post(url, {"action": "resolve", "_selected_action": [incident.pk]})
    assert "no customer was pushed: no all-clear" in asked.content.decode()
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    admin_client.post(
        url,
        {
            "action": "resolve",
            "_selected_action": [incident.pk],
            "confirmed": "yes",
            "note": "fixed by a deploy",
        },
    )
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.events.filter(kind="resolved", detail="fixed by a deploy").exists()
    page = admin_client.get(f"{url}{incident.pk}/change/").content.decode()
    assert "Acknowledged" in page and "Resolved" in page


def test_new_integration_shows_its_token_once_and_stores_a_hash(db, admin_client):
    response = admin_client.post(
        "/admin/incidents/integration/add/",
        {"name": "zabbix", "kind": "cxhub", "enabled": "on", "rate_limit": 600, "mapping": "{}"},
    )
    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request) if "shown only now" in str(m)]
    token = message.split("shown only now: ")[1].split(" ")[0]
    integration = Integration.objects.get(name="zabbix")
    assert integration.token_hash == hash_token(token)
    change_page = f"/admin/incidents/integration/{integration.pk}/change/"
    assert token in admin_client.get(change_page).content.decode()  # the message, once
    assert token not in admin_client.get(change_page).content.decode()


def test_integration_page_shows_url_defaults_and_refuses_a_bad_mapping(db, admin_client):
    integration = Integration(name="prom", kind="alertmanager")
    integration.set_new_token()
    integration.save()
    page = f"/admin/incidents/integration/{integration.pk}/change/"
    content = admin_client.get(page).content.decode()
    assert "/api/v1/integrations/alertmanager/" in content
    assert "labels.alertname" in content  # the kind's default mapping
    response = admin_client.post(
        page,
        {
            "name": "prom",
            "kind": "alertmanager",
            "enabled": "on",
            "rate_limit": 60,
            "mapping": '{"service": "labels.job", "colour": "x"}',
        },
    )
    assert response.status_code == 200
    assert "&#x27;colour&#x27; is not a mapping key for alertmanager" in response.content.decode()
    response = admin_client.post(
        page,
        {
            "name": "prom",
            "kind": "alertmanager",
            "enabled": "on",
            "rate_limit": 60,
            "mapping": '{"service": "labels.job"}',
        },
    )
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.mapping == {"service": "labels.job"}
    assert integration.rate_limit == 60


def test_silence_and_end_silence_from_the_admin(scenario, admin_client):
    incident = open_incident()
    url = "/admin/incidents/incident/"
    admin_client.post(url, {"action": "silence_30", "_selected_action": [incident.pk]})
    incident.refresh_from_db()
    assert incident.silenced_by == "admin"
    assert incident.silenced_until is not None
    admin_client.post(url, {"action": "end_silence", "_selected_action": [incident.pk]})
    incident.refresh_from_db()
    assert incident.silenced_until is None
    assert list(incident.events.values_list("kind", flat=True)) == [
        "opened",
        "silenced",
        "silence_ended",
    ]


def test_incident_page_shows_the_frozen_policy(scenario, admin_client):
    incident = open_incident()
    page = admin_client.get(f"/admin/incidents/incident/{incident.pk}/change/").content.decode()
    assert "frozen when the incident opened" in page
    assert "Tier 2: Analista N2" in page


def test_action_page_says_tiers_are_frozen_per_incident(scenario, admin_client):
    action = scenario["action"]
    page = admin_client.get(f"/admin/actions/action/{action.pk}/change/").content.decode()
    assert "each incident keeps the tiers" in page
    assert "quiet_minutes" in page


def test_maintenance_window_scheduled_and_ended_early_from_the_admin(scenario, admin_client):
    from datetime import timedelta

    from django.utils import timezone

    from incidents.models import MaintenanceWindow

    now = timezone.localtime()
    later = now + timedelta(hours=2)
    response = admin_client.post(
        "/admin/incidents/maintenancewindow/add/",
        {
            "service": scenario["login"].pk,
            "starts_at_0": now.strftime("%Y-%m-%d"),
            "starts_at_1": now.strftime("%H:%M:%S"),
            "ends_at_0": later.strftime("%Y-%m-%d"),
            "ends_at_1": later.strftime("%H:%M:%S"),
            "reason": "Login DB upgrade",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    window = MaintenanceWindow.objects.get()
    assert window.created_by == "admin"
    assert "running" in admin_client.get("/admin/incidents/maintenancewindow/").content.decode()
    incident = open_incident(times=6)
    assert incident.maintenance_id == window.pk
    admin_client.post(
        "/admin/incidents/maintenancewindow/",
        {"action": "end_now", "_selected_action": [window.pk]},
    )
    window.refresh_from_db()
    assert window.ended_early_by == "admin"
    listing = admin_client.get("/admin/incidents/maintenancewindow/").content.decode()
    assert "ended early by admin" in listing
    assert window.ends_at <= timezone.now()


def test_maintenance_window_needs_a_service_or_an_action(scenario, admin_client):
    response = admin_client.post(
        "/admin/incidents/maintenancewindow/add/",
        {
            "starts_at_0": "2026-11-28",
            "starts_at_1": "10:00:00",
            "ends_at_0": "2026-11-28",
            "ends_at_1": "11:00:00",
            "reason": "x",
        },
    )
    assert response.status_code == 200
    assert "Give either a service or an action." in response.content.decode()


def test_triage_page_creates_an_action_then_reprocesses_in_one_click(scenario, admin_client):
    from actions.models import Action, TriggerRule
    from incidents.models import TriageAlert

    post_original(2, ("login", "500"))
    alert = TriageAlert.objects.get()
    listing = admin_client.get("/admin/incidents/triagealert/").content.decode()
    assert "/admin/actions/action/add/?service=login&amp;code=500" in listing

    action = Action.objects.create(code="0500", name="Login 500")
    TriggerRule.objects.create(action=action, service=scenario["login"], code="500")
    listing = admin_client.get("/admin/incidents/triagealert/").content.decode()
    url = f"/admin/incidents/triagealert/{alert.pk}/reprocess/"
    assert f'formaction="{url}"' in listing
    assert admin_client.get(url).status_code == 405
    response = admin_client.post(url, follow=True)
    assert "2 recent unmatched trigger(s) re-processed" in response.content.decode()
    assert Incident.objects.get(action=action).occurrences == 2
    admin_client.post(url)
    assert Incident.objects.get(action=action).occurrences == 2
