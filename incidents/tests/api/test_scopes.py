"""A token's kind is its scope: monitoring tokens send triggers, the app backend's the registry."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from incidents.models import Integration, Report
from notifications.models import Customer, Device

ORIGINAL = {"gatilhos": [{"servico": "login", "retorno": "503"}]}


def client_for(kind):
    integration = Integration(name=f"i-{kind}", kind=kind)
    token = integration.set_new_token()
    integration.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client, token


@pytest.mark.parametrize(
    ("kind", "endpoint"),
    [
        ("alertmanager", "/api/v1/integrations/alertmanager/"),
        ("grafana", "/api/v1/integrations/grafana/"),
        ("generic", "/api/v1/integrations/generic/"),
        ("pagerduty", "/api/v1/integrations/pagerduty/"),
        ("app_backend", "/api/v1/customers"),
    ],
)
def test_triggers_endpoint_refuses_other_kinds_naming_their_endpoint(scenario, kind, endpoint):
    client, _ = client_for(kind)
    response = client.post("/api/v1/triggers", ORIGINAL, format="json")
    assert response.status_code == 403
    assert endpoint in response.json()["detail"]
    assert not Report.objects.exists()


def test_cxhub_token_still_sends_triggers(scenario):
    client, _ = client_for("cxhub")
    assert client.post("/api/v1/triggers", ORIGINAL, format="json").status_code == 202


@pytest.mark.parametrize("kind", ["cxhub", "alertmanager", "grafana", "generic", "pagerduty"])
def test_monitoring_tokens_cannot_write_the_customer_registry(scenario, kind):
    victim = (
        Customer.objects.get(external_id="c-1")
        if Customer.objects.filter(external_id="c-1").exists()
        else Customer.objects.create(external_id="c-1")
    )
    Device.objects.create(customer=victim, platform="android", token="real-device")
    client, _ = client_for(kind)
    moved = {
        "external_id": "made-up",
        "devices": [{"platform": "android", "token": "real-device"}],
    }
    response = client.post("/api/v1/customers", moved, format="json")
    assert response.status_code == 403
    assert "may not call this endpoint" in response.json()["detail"]
    emptied = {"customers": [{"external_id": "c-1", "services": [], "devices": []}]}
    assert client.post("/api/v1/customers/bulk", emptied, format="json").status_code == 403
    assert Device.objects.get(token="real-device").customer == victim
    assert not Customer.objects.filter(external_id="made-up").exists()


def test_app_backend_token_writes_the_registry(scenario):
    client, _ = client_for("app_backend")
    body = {"external_id": "c-9", "devices": [{"platform": "ios", "token": "t-9"}]}
    assert client.post("/api/v1/customers", body, format="json").status_code == 201


def test_app_backend_token_sends_no_webhook(scenario):
    client, token = client_for("app_backend")
    assert client.post("/api/v1/integrations/app_backend/", {}, format="json").status_code == 404
    response = APIClient().post(f"/api/v1/integrations/generic/{token}", {}, format="json")
    assert response.status_code == 403
    assert "/api/v1/customers" in response.json()["detail"]
    assert not Report.objects.exists()


def test_admin_says_what_each_credential_may_do(scenario, admin_client):
    backend, _ = client_for("app_backend")
    page = admin_client.get("/admin/incidents/integration/").content.decode()
    assert "Create and update customers" in page
    assert "Send Prometheus Alertmanager webhook triggers" not in page  # only kinds present
    client_for("alertmanager")
    page = admin_client.get("/admin/incidents/integration/").content.decode()
    assert "/api/v1/integrations/alertmanager/" in page


def test_demo_prints_which_credential_does_what(db, capsys, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("demo")
    out = capsys.readouterr().out
    backend_token = (tmp_path / "demo_token_app_backend").read_text().strip()
    assert f"App backend token: {backend_token}" in out
    assert "(customer registry: POST /api/v1/customers" in out
    assert "(cxhub triggers: POST /api/v1/triggers)" in out
    assert Integration.objects.get(name="demo-app-backend").kind == "app_backend"
