"""The SMS / e-mail fallback in the pipeline: no device, every push failed, once, capped."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident
from notifications import fallback, providers
from notifications.models import Customer, Delivery, PushRecord
from notifications.providers import PushFailure
from notifications.tests.fake_gateways import FakeMessageGateway
from notifications.tests.helpers import post, send_pending


@pytest.fixture
def sms(scenario, settings):
    """Action 0001 falls back to SMS; c4 uses login, has no device, consented to SMS."""
    settings.CXHUB_SMS_PROVIDER = "locmem"
    fallback.outbox.clear()
    scenario["action"].push_fallback = "sms"
    scenario["action"].save()
    c4 = Customer.objects.create(external_id="c4", phone="+5511999990004", phone_consent=True)
    c4.services.add(scenario["login"])
    c5 = Customer.objects.create(external_id="c5", phone="+5511999990005")  # no consent
    c5.services.add(scenario["login"])
    yield scenario
    fallback.outbox.clear()


def fallback_ledger():
    return sorted(
        PushRecord.objects.filter(channel__in=["sms", "email"]).values_list(
            "customer_ref", "channel", "status"
        )
    )


def test_a_customer_with_no_device_gets_an_sms_once(sms, integration):
    incident = post(integration)
    send_pending("push")
    send_pending("fallback")
    assert [m["to"] for m in fallback.outbox] == [["+5511999990004"]]
    assert fallback_ledger() == [("c4", "sms", "sent")]
    record = PushRecord.objects.get(channel="sms")
    assert record.device is None and record.token_tail == "0004"
    assert record.message.startswith("Infelizmente")
    # Queued again (a retry of the fan-out): the ledger's constraint keeps it to one.
    from incidents.outreach.pushes import fallback_fan_out, push_texts

    Delivery.objects.filter(purpose="fallback").delete()
    incident = Incident.objects.get(pk=incident.pk)
    fallback_fan_out(incident, texts=push_texts(incident, "outage"), now=timezone.now())
    send_pending("fallback")
    assert len(fallback.outbox) == 1


def test_a_customer_whose_every_push_failed_for_good_gets_an_sms(sms, integration):
    Customer.objects.filter(external_id__in=["c1", "c2"]).update(
        phone="+5511999990002", phone_consent=True
    )
    providers.locmem_failures["tok-c2"] = PushFailure("gone", unregistered=True)
    providers.locmem_failures["tok-c1-a"] = PushFailure("bad", unregistered=True)  # c1-b works
    post(integration)
    send_pending("push")
    send_pending("fallback")
    assert fallback_ledger() == [("c2", "sms", "sent"), ("c4", "sms", "sent")]


def test_the_fallback_counts_in_the_frequency_cap(sms, integration):
    other = Incident.objects.create(
        action=sms["action"],
        opened_at=timezone.now(),
        last_occurrence_at=timezone.now(),
        policy={},
        status="resolved",
    )
    Customer.objects.filter(external_id="c4").update(
        last_outage_push_at=timezone.now() - timedelta(hours=1), last_outage_incident=other
    )
    post(integration)
    send_pending("fallback")
    assert fallback_ledger() == [("c4", "sms", "capped")]
    assert fallback.outbox == []


def test_no_fallback_unless_the_action_asks(scenario, integration, settings):
    settings.CXHUB_SMS_PROVIDER = "locmem"
    c4 = Customer.objects.create(external_id="c4", phone="+5511999990004", phone_consent=True)
    c4.services.add(scenario["login"])
    post(integration)
    assert not Delivery.objects.filter(purpose="fallback").exists()


def test_the_sms_reaches_the_local_fake_gateway_signed(sms, integration, settings):
    gateway = FakeMessageGateway("gw-secret")
    settings.CXHUB_SMS_PROVIDER = "webhook"
    settings.CXHUB_SMS_WEBHOOK_URL = gateway.url
    settings.CXHUB_SMS_WEBHOOK_SECRET = "gw-secret"
    try:
        post(integration)
        send_pending("fallback")
    finally:
        gateway.close()
    assert gateway.refused == 0
    [batch] = gateway.accepted
    assert batch["channel"] == "sms"
    assert [r["to"] for r in batch["recipients"]] == ["+5511999990004"]
    assert fallback_ledger() == [("c4", "sms", "sent")]
    assert PushRecord.objects.get(channel="sms").provider == "sms:webhook"


def test_a_fallback_already_sent_does_not_hide_a_device_still_to_come(sms, integration, settings):
    settings.CXHUB_PUSH_BATCH_SIZE = 1  # c1's two devices in two batches
    Customer.objects.filter(external_id="c1").update(phone="+5511999990001", phone_consent=True)
    providers.locmem_failures["tok-c1-a"] = PushFailure("bad", unregistered=True)
    post(integration)
    send_pending("fallback")  # c4's SMS first: a ledger row with no device
    first = Delivery.objects.filter(purpose="push").order_by("key").first()
    from notifications.services import delivery_send

    delivery_send(first.pk)  # tok-c1-a failed; tok-c1-b is in a later batch
    send_pending("fallback")
    assert fallback_ledger() == [("c4", "sms", "sent")]  # c1 still has a device to try
