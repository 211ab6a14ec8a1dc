"""A new user's path: register customers, run the demo, push through FCM v1, resolve, export."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from conftest import ORIGINAL_PAYLOAD
from incidents import services as incidents
from incidents.models import Incident, Integration
from notifications.admin import csv_cell
from notifications.models import Device, PushRecord
from notifications.tests.fake_gateways import FakeMessageGateway
from notifications.tests.fakes import FakeFcm
from tests.worker import running_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fcm(tmp_path):
    fake = FakeFcm()
    yield fake
    fake.close()


@pytest.fixture
def sms_gateway():
    fake = FakeMessageGateway("sms-secret")
    yield fake
    fake.close()


@pytest.fixture
def worker(transactional_db, tmp_path, fcm, sms_gateway):
    account = tmp_path / "service-account.json"
    account.write_text(json.dumps(fcm.service_account()))
    env = {
        "CXHUB_PUSH_PROVIDER": "fcm",
        "CXHUB_FCM_CREDENTIALS_FILE": str(account),
        "CXHUB_FCM_BASE_URL": fcm.url,
        "CXHUB_PUSH_BATCH_SIZE": "2",
        # The demo's customer with no app gets the SMS fallback at the local gateway.
        "CXHUB_SMS_PROVIDER": "webhook",
        "CXHUB_SMS_WEBHOOK_URL": sms_gateway.url,
        "CXHUB_SMS_WEBHOOK_SECRET": "sms-secret",
    }
    with running_worker(tmp_path, env) as worker:
        yield worker


def test_demo_push_reaches_each_impacted_device_once_and_the_all_clear_follows(
    worker, fcm, sms_gateway, client, django_user_model, settings
):
    settings.CXHUB_PUSH_PROVIDER = "fcm"  # the web side (resolve) is configured as the worker
    call_command("demo", quiet=True)
    integration = Integration(name="monitoring")
    token = integration.set_new_token()
    integration.save()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    customers = [
        {
            "external_id": "api-en",
            "locale": "en",
            "services": ["login"],
            "devices": [
                {"platform": "ios", "token": "api-en-ios"},
                {"platform": "android", "token": "dead-api-en"},
            ],
        },
        {
            "external_id": "api-pt",
            "locale": "pt-BR",
            "services": ["login"],
            "devices": [{"platform": "android", "token": "api-pt-android"}],
        },
        {
            "external_id": "api-other",
            "services": [],
            "devices": [{"platform": "web", "token": "x"}],
        },
    ]
    backend = Integration(name="app-backend", kind=Integration.Kind.APP_BACKEND)
    backend_token = backend.set_new_token()
    backend.save()
    registry = APIClient()
    registry.credentials(HTTP_AUTHORIZATION=f"Bearer {backend_token}")
    response = registry.post("/api/v1/customers/bulk", {"customers": customers}, format="json")
    assert response.json() == {"created": 3, "updated": 0, "devices": 4}

    for _ in range(5):
        assert api.post("/api/v1/triggers", ORIGINAL_PAYLOAD, format="json").status_code == 202

    impacted = {
        "demo-token-android-1": "pt",
        "demo-token-ios-2": "pt",
        "demo-token-android-3": "en",
        "demo-token-web-3": "en",
        "demo-token-ios-tokyo": "en",
        "api-en-ios": "en",
        "api-pt-android": "pt",
    }
    wait_for(
        lambda: len(fcm.messages) >= len(impacted) and len(fcm.rejected) >= 1,
        timeout=60,
        message="outage push sent through FCM",
    )
    incident = Incident.objects.get()

    def all_finished():
        return not incident.deliveries.filter(status__in=["pending", "sending"]).exists()

    wait_for(all_finished, timeout=30, message="every push batch finished")
    outage = {m["token"]: m["notification"]["body"] for m in fcm.messages}
    assert len(fcm.messages) == len(impacted)  # exactly one per device
    assert set(outage) == set(impacted)
    for device_token, language in impacted.items():
        expected = "is unavailable since" if language == "en" else "Infelizmente"
        assert expected in outage[device_token], device_token
    # The Tokyo customer reads Tokyo time, with its offset.
    assert "(UTC+09:00)" in outage["demo-token-ios-tokyo"]
    assert "(UTC-03:00)" in outage["demo-token-android-3"]
    assert not Device.objects.get(token="dead-api-en").enabled

    # The demo customer without a device got one SMS, signed, at the gateway.
    # (Tier 1, reached at 10 occurrences, also wakes the demo's N1 analyst on call by SMS.)
    def fallback_sms():
        return [b for b in sms_gateway.accepted if b["reference"].startswith("fallback:")]

    wait_for(fallback_sms, timeout=30, message="SMS fallback sent")
    [sms] = fallback_sms()
    assert [r["to"] for r in sms["recipients"]] == ["+5511999990000"]
    assert sms["recipients"][0]["message"].startswith("Infelizmente")
    assert sms_gateway.refused == 0

    incidents.incident_resolve(incident_id=incident.pk, by="test")
    wait_for(
        lambda: len(fcm.messages) >= 2 * len(impacted),
        timeout=60,
        message="all-clear sent through FCM",
    )
    wait_for(all_finished, timeout=30, message="every all-clear batch finished")
    all_clear = {m["token"]: m["notification"]["body"] for m in fcm.messages[len(impacted) :]}
    assert len(fcm.messages) == 2 * len(impacted)
    assert set(all_clear) == set(impacted)
    assert all_clear["api-en-ios"] == "Login no app is working again."
    assert all_clear["api-pt-android"].startswith("Voltamos a funcionar")

    client.force_login(django_user_model.objects.get(username="admin"))  # made by the demo
    response = client.post(
        "/admin/notifications/pushrecord/",
        {"action": "export_csv", "select_across": "1", "_selected_action": ["0"], "index": "0"},
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    [sms_row] = [r for r in rows if r["channel"] == "sms"]
    assert (sms_row["customer"], sms_row["provider"], sms_row["status"]) == (
        "demo-customer-sms",
        "sms:webhook",
        "sent",
    )
    rows = [r for r in rows if r["channel"] == "push"]
    sent = sorted((r["token_tail"], r["purpose"]) for r in rows if r["status"] == "sent")
    # Cells that a spreadsheet would run as a formula ("-android") are quoted.
    expected_tails = sorted(csv_cell(t[-8:]) for t in impacted)
    assert sent == sorted(
        [(t, "all_clear") for t in expected_tails] + [(t, "outage") for t in expected_tails]
    )
    assert [(r["token_tail"], r["status"]) for r in rows if r["status"] != "sent"] == [
        ("d-api-en", "failed")
    ]
    assert PushRecord.objects.count() - 1 == len(rows) == 2 * len(impacted) + 1
    assert {r["provider"] for r in rows} == {"fcm"}
