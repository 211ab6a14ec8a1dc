import json
from datetime import timedelta

import pytest
import time_machine

from notifications.models import Customer, Delivery, Device, PushRecord
from notifications.services import delivery_send
from notifications.tests.fakes import FakeFcm
from notifications.tests.helpers import ledger, post, send_pending


@pytest.fixture
def fcm(settings, tmp_path):
    fake = FakeFcm()
    account = tmp_path / "service-account.json"
    account.write_text(json.dumps(fake.service_account()))
    settings.CXHUB_FCM_CREDENTIALS_FILE = str(account)
    settings.CXHUB_FCM_BASE_URL = fake.url
    settings.CXHUB_PUSH_CONCURRENCY = 4
    yield fake
    fake.close()


def add_devices(*tokens):
    customer = Customer.objects.get(external_id="c2")
    for token in tokens:
        Device.objects.create(customer=customer, platform="android", token=token)


def test_fcm_v1_sends_one_message_per_token_and_disables_dead_ones(scenario, integration, fcm):
    action = scenario["action"]
    action.push_provider = "fcm"  # per action; the global provider stays locmem
    action.save()
    Customer.objects.filter(external_id="c1").update(locale="en")
    add_devices("dead-1", "bad-1")
    incident = post(integration)
    [delivery] = send_pending("push")
    assert delivery.status == "sent"
    # OAuth: one JWT-bearer exchange, its signature checked by the fake against the key.
    [grant] = fcm.token_requests
    assert grant["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    sent = {m["token"]: m for m in fcm.messages}
    assert sorted(sent) == ["tok-c1-a", "tok-c1-b", "tok-c2"]
    assert sent["tok-c2"]["notification"] == {
        "title": action.name,
        "body": "Infelizmente nosso app está indisponível, avisaremos quando voltar",
    }
    assert sent["tok-c2"]["data"] == {"reference": f"push:{incident.pk}:0"}
    assert len(fcm.rejected) == 2
    records = {
        r.token_tail: r for r in PushRecord.objects.filter(incident=incident, provider="fcm")
    }
    assert {t: r.status for t, r in records.items()} == {
        "tok-c1-a": "sent",
        "tok-c1-b": "sent",
        "tok-c2": "sent",
        "dead-1": "failed",
        "bad-1": "failed",
    }
    assert records["dead-1"].error == "UNREGISTERED: UNREGISTERED for dead-1"
    assert records["bad-1"].error.startswith("INVALID_ARGUMENT")
    assert set(Device.objects.filter(enabled=False).values_list("token", flat=True)) == {
        "dead-1",
        "bad-1",
    }
    assert Device.objects.get(token="dead-1").disabled_reason.startswith("fcm: UNREGISTERED")


def test_fcm_batch_is_retried_when_every_token_is_unavailable(scenario, integration, fcm, settings):
    settings.CXHUB_PUSH_PROVIDER = "fcm"
    Device.objects.all().delete()
    add_devices("busy-1", "busy-2")
    post(integration)
    [delivery] = send_pending("push")
    assert delivery.status == "pending"
    assert delivery.last_error.startswith("2 of 2 device(s) failed transiently (e.g. UNAVAILABLE")
    assert ledger("outage") == [("busy-1", "pending"), ("busy-2", "pending")]
    assert Device.objects.filter(enabled=True).count() == 2


def test_fcm_retries_only_the_tokens_that_failed_transiently(scenario, integration, fcm, settings):
    settings.CXHUB_PUSH_PROVIDER = "fcm"
    add_devices("busy-1", "dead-1")
    post(integration)
    [delivery] = send_pending("push")
    assert delivery.status == "pending" and delivery.attempts == 1
    assert ledger("outage") == [
        ("busy-1", "pending"),
        ("dead-1", "failed"),
        ("tok-c1-a", "sent"),
        ("tok-c1-b", "sent"),
        ("tok-c2", "sent"),
    ]
    fcm.busy = False
    delivery.refresh_from_db()
    with time_machine.travel(delivery.due_at + timedelta(seconds=1)):
        assert delivery_send(delivery.pk).status == "sent"
    assert sorted(m["token"] for m in fcm.messages) == ["busy-1", "tok-c1-a", "tok-c1-b", "tok-c2"]
    assert ("busy-1", "sent") in ledger("outage")


def test_fcm_refuses_a_jwt_signed_with_another_key(scenario, integration, fcm, settings):
    settings.CXHUB_PUSH_PROVIDER = "fcm"
    account = fcm.service_account()
    other = FakeFcm()
    account["private_key"] = other.service_account()["private_key"]
    other.close()
    with open(settings.CXHUB_FCM_CREDENTIALS_FILE, "w") as handle:
        json.dump(account, handle)
    post(integration)
    [delivery] = send_pending("push")
    assert delivery.status == "failed"
    assert "FCM OAuth exchange answered 400" in delivery.last_error
    # The token endpoint's own words go to the log, not where Support reads errors.
    assert "Signature verification failed" not in delivery.last_error
    assert fcm.messages == []
    assert {status for _, status in ledger("outage")} == {"failed"}


def test_gateway_verifies_the_hmac_and_reports_dead_tokens(scenario, integration, gateway):
    incident = post(integration)
    [delivery] = send_pending("push")
    assert delivery.status == "sent"
    [batch] = gateway.accepted
    assert batch["reference"] == f"push:{incident.pk}:0"
    assert sorted(r["device"] for r in batch["recipients"]) == ["tok-c1-a", "tok-c1-b", "tok-c2"]
    assert not Device.objects.get(token="tok-c2").enabled
    assert ledger("outage") == [("tok-c1-a", "sent"), ("tok-c1-b", "sent"), ("tok-c2", "failed")]


def test_gateway_refuses_a_wrong_signature(scenario, integration, gateway, settings):
    settings.CXHUB_PUSH_WEBHOOK_SECRET = "not-the-secret"
    post(integration)
    [delivery] = send_pending("push")
    assert delivery.status == "failed"
    assert delivery.last_error == "Push gateway refused the batch: 401"
    assert gateway.refused == 1 and gateway.accepted == []
    assert {status for _, status in ledger("outage")} == {"failed"}
    assert Delivery.objects.get(purpose="push").status == "failed"


def test_apprise_provider_sends_each_device_through_its_url(
    scenario, integration, settings, http_sink
):
    settings.CXHUB_PUSH_PROVIDER = "apprise"
    settings.CXHUB_PUSH_APPRISE_URL = http_sink.url.replace("http://", "json://") + "/ntfy/{token}"
    post(integration)
    [delivery] = send_pending("push")
    assert delivery.status == "sent"
    assert sorted(r["path"] for r in http_sink.requests) == [
        "/ntfy/tok-c1-a",
        "/ntfy/tok-c1-b",
        "/ntfy/tok-c2",
    ]
    assert json.loads(http_sink.requests[0]["body"])["message"].startswith("Infelizmente")
    assert ledger("outage") == [("tok-c1-a", "sent"), ("tok-c1-b", "sent"), ("tok-c2", "sent")]
