"""Issue 10's smaller findings: encoded triage links, disabled devices, strict API input."""

from incidents.outreach.paging import triage_create_url
from notifications.models import Customer, Delivery, Device


def test_triage_create_action_link_is_url_encoded():
    url = triage_create_url("login", "5&x=1 #")
    assert url.endswith("/admin/actions/action/add/?service=login&code=5%26x%3D1+%23")


def test_test_push_skips_a_disabled_device(scenario, admin_client):
    customer = Customer.objects.create(external_id="c-off")
    device = Device.objects.create(
        customer=customer, platform="android", token="t-off", enabled=False
    )
    response = admin_client.post(
        "/admin/notifications/device/",
        {"action": "send_test_push", "_selected_action": [device.pk]},
        follow=True,
    )
    assert "is disabled" in response.content.decode()
    assert not Delivery.objects.filter(key__startswith="test-push:").exists()


def test_numeric_device_token_and_empty_bulk_are_refused(scenario, registry_client):
    body = {"external_id": "c-n", "devices": [{"platform": "ios", "token": 12345}]}
    response = registry_client.post("/api/v1/customers", body, format="json")
    assert response.status_code == 400
    assert response.json()["devices"]["0"]["token"] == ["Give a string, not a number."]
    response = registry_client.post("/api/v1/customers", {"external_id": 7}, format="json")
    assert response.status_code == 400 and "external_id" in response.json()
    empty = registry_client.post("/api/v1/customers/bulk", {"customers": []}, format="json")
    assert empty.status_code == 400


def test_empty_date_filter_is_a_400_naming_it(scenario, admin_client):
    response = admin_client.get("/api/v1/incidents/?until=")
    assert response.status_code == 400
    assert "until" in response.json()
