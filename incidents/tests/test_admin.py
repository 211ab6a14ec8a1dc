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
    admin_client.post(url, {"action": "resolve", "_selected_action": [incident.pk]})
    incident.refresh_from_db()
    assert incident.status == "resolved"
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
