from datetime import timedelta

import time_machine
from django.utils import timezone

from actions.models import PushTemplate
from incidents import services as incidents
from incidents.outreach.pushes import all_clear_fan_out
from notifications import providers
from notifications.models import Customer, Delivery, Device, PushRecord, Tag
from notifications.providers import PushFailure
from notifications.selectors import audience_estimate, push_progress
from notifications.services import delivery_send, push_switch_set
from notifications.tests.helpers import ledger, outbox_tokens, post, send_pending


def test_every_push_is_recorded_in_the_customer_language(scenario, integration):
    PushTemplate.objects.create(
        action=scenario["action"],
        purpose="outage",
        locale="en",
        text="{service} is unavailable since {started_at}. Details: {link} {unknown}",
    )
    Customer.objects.filter(external_id="c1").update(locale="en-GB")
    incident = post(integration)
    send_pending("push")
    rows = PushRecord.objects.filter(incident=incident).order_by("device_id")
    assert [(r.customer_ref, r.token_tail, r.status, r.provider) for r in rows] == [
        ("c1", "tok-c1-a", "sent", "locmem"),
        ("c1", "tok-c1-b", "sent", "locmem"),
        ("c2", "tok-c2", "sent", "locmem"),
    ]
    [push] = providers.outbox
    english = push["bodies"]["tok-c1-a"]
    assert english.startswith("Login no app is unavailable since ")
    assert f"/support/incidents/{incident.pk}/" in english
    assert english.endswith("{unknown}")  # not a variable: left as written, nothing evaluated
    assert push["bodies"]["tok-c2"].startswith("Infelizmente nosso app está indisponível")
    assert rows[0].message == english and rows[0].sent_at is not None


def test_templates_are_frozen_when_the_incident_opens(scenario, integration):
    incident = post(integration, times=1)
    PushTemplate.objects.create(
        action=scenario["action"], purpose="outage", locale="pt-BR", text="changed later"
    )
    post(integration, times=4)
    send_pending("push")
    assert "changed later" not in providers.outbox[0]["body"]
    assert incident.policy["texts"]["outage"] == {"default": scenario["action"].push_message}


def test_all_clear_goes_only_to_devices_the_outage_push_reached(
    scenario, integration, settings, gateway
):
    settings.CXHUB_PUSH_BATCH_SIZE = 2
    gateway.failed["tok-c1-b"] = "INTERNAL: boom"
    incident = post(integration)
    first = Delivery.objects.get(key=f"push:{incident.pk}:0")
    delivery_send(first.pk)  # tok-c1-a sent, tok-c1-b failed; batch 1 (tok-c2) still queued
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    assert Delivery.objects.get(key=f"push:{incident.pk}:1").status == "cancelled"
    send_pending("all_clear")
    assert ledger("outage") == [("tok-c1-a", "sent"), ("tok-c1-b", "failed")]
    assert ledger("all_clear") == [("tok-c1-a", "sent")]
    assert [[r["device"] for r in batch["recipients"]] for batch in gateway.accepted] == [
        ["tok-c1-a", "tok-c1-b"],
        ["tok-c1-a"],
    ]
    assert gateway.accepted[1]["recipients"][0]["message"] == "Voltamos a funcionar"
    # Queuing the all-clear again sends nothing more: the ledger is unique per device.
    all_clear_fan_out(incident, now=timezone.now(), key_prefix="again")
    send_pending("all_clear")
    assert len(gateway.accepted) == 2
    assert ledger("all_clear") == [("tok-c1-a", "sent")]


def test_a_batch_sent_while_the_incident_resolves_gets_its_all_clear(
    scenario, integration, monkeypatch
):
    incident = post(integration)
    real_send = providers.LocmemPushProvider.send

    def send_then_resolve(self, **kwargs):
        result = real_send(self, **kwargs)
        if kwargs["reference"].startswith("push:"):
            incidents.incident_resolve(incident_id=incident.pk, by="test")
        return result

    monkeypatch.setattr(providers.LocmemPushProvider, "send", send_then_resolve)
    send_pending("push")
    assert Delivery.objects.filter(purpose="all_clear").count() == 1
    send_pending("all_clear")
    assert ledger("all_clear") == [("tok-c1-a", "sent"), ("tok-c1-b", "sent"), ("tok-c2", "sent")]
    assert outbox_tokens() == sorted(["tok-c1-a", "tok-c1-b", "tok-c2"] * 2)


def test_cancel_on_resolve_sends_nothing_queued(scenario, integration, settings, gateway):
    settings.CXHUB_PUSH_BATCH_SIZE = 1
    incident = post(integration)
    delivery_send(Delivery.objects.get(key=f"push:{incident.pk}:0").pk)
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    assert send_pending("push") == []
    statuses = dict(Delivery.objects.filter(purpose="push").values_list("key", "status"))
    assert sorted(statuses.values()) == ["cancelled", "cancelled", "sent"]
    send_pending("all_clear")
    assert ledger("outage") == [("tok-c1-a", "sent")]
    assert ledger("all_clear") == [("tok-c1-a", "sent")]
    assert gateway.received() == ["tok-c1-a", "tok-c1-a"]
    assert push_progress(incident) == {
        "queued": 3,
        "batches_pending": 0,
        "sent": 1,
        "failed": 0,
        "capped": 0,
        "cancelled": 2,
        "all_clear_sent": 1,
    }


def test_frequency_cap_holds_across_incidents(scenario, integration, settings, gateway):
    gateway.unregistered = []
    settings.CXHUB_PUSH_BATCH_SIZE = 1  # c1's two devices fall in two batches: both go
    first = post(integration)
    send_pending("push")
    assert ledger("outage", incident=first) == [
        ("tok-c1-a", "sent"),
        ("tok-c1-b", "sent"),
        ("tok-c2", "sent"),
    ]
    incidents.incident_resolve(incident_id=first.pk, by="test")
    second = post(integration)
    send_pending("push")
    assert ledger("outage", incident=second) == [
        ("tok-c1-a", "capped"),
        ("tok-c1-b", "capped"),
        ("tok-c2", "capped"),
    ]
    # Only the first incident's three batches reached the gateway.
    assert gateway.received() == ["tok-c1-a", "tok-c1-b", "tok-c2"]
    incidents.incident_resolve(incident_id=second.pk, by="test")
    send_pending("all_clear")
    # The capped customers heard nothing of the second incident, so no all-clear for it.
    assert ledger("all_clear", incident=second) == []
    with time_machine.travel(timezone.now() + timedelta(hours=6, minutes=1)):
        third = post(integration)
        send_pending("push")
    assert ledger("outage", incident=third) == [
        ("tok-c1-a", "sent"),
        ("tok-c1-b", "sent"),
        ("tok-c2", "sent"),
    ]


def test_global_kill_switch_cancels_queued_and_stops_sending(
    scenario, integration, settings, gateway
):
    settings.CXHUB_PUSH_BATCH_SIZE = 1
    incident = post(integration)
    delivery_send(Delivery.objects.get(key=f"push:{incident.pk}:0").pk)
    assert push_switch_set(paused=True, by="cx-lead") == 2
    assert send_pending("push") == []
    assert ledger("outage") == [("tok-c1-a", "sent")]
    # A batch already claimed (or requeued) when the switch flips is cancelled at send time.
    Delivery.objects.filter(key=f"push:{incident.pk}:1").update(status="pending")
    [cancelled] = send_pending("push")
    assert cancelled.status == "cancelled"
    assert cancelled.last_error == "Stopped by the global push kill switch."
    assert gateway.received() == ["tok-c1-a"]
    assert ledger("outage") == [("tok-c1-a", "sent")]


def test_environment_kill_switch_stops_sending(scenario, integration, settings):
    settings.CXHUB_PUSH_KILL_SWITCH = True
    post(integration)
    [delivery] = send_pending("push")
    assert delivery.status == "cancelled"
    assert providers.outbox == [] and not PushRecord.objects.exists()


def test_action_kill_switch_stops_only_that_action(scenario, integration, gateway):
    incident = post(integration)
    action = scenario["action"]
    action.push_paused = True
    action.save()
    assert incidents.action_pushes_cancel(action, reason="paused") == 1
    assert Delivery.objects.get(incident=incident, purpose="push").status == "cancelled"
    Delivery.objects.filter(incident=incident, purpose="push").update(status="pending")
    [delivery] = send_pending("push")
    assert delivery.last_error == "Stopped by the action's push kill switch."
    assert gateway.accepted == [] and not PushRecord.objects.exists()


def test_unregistered_tokens_are_disabled(scenario, integration):
    providers.locmem_failures["tok-c2"] = PushFailure("UNREGISTERED: gone", unregistered=True)
    post(integration)
    send_pending("push")
    device = Device.objects.get(token="tok-c2")
    assert not device.enabled
    assert device.disabled_reason == "locmem: UNREGISTERED: gone"
    assert ledger("outage") == [("tok-c1-a", "sent"), ("tok-c1-b", "sent"), ("tok-c2", "failed")]


def test_audience_narrows_by_tag_platform_and_locale(scenario, integration):
    action = scenario["action"]
    vip = Tag.objects.create(slug="vip")
    Customer.objects.get(external_id="c2").tags.add(vip)
    Customer.objects.get(external_id="c3").tags.add(vip)
    Device.objects.filter(token="tok-c1-b").update(platform="ios")
    base = {"scope": "service", "service_ids": [scenario["login"].pk]}
    assert audience_estimate(base) == {"devices": 3, "customers": 2, "opted_out": 0}
    assert audience_estimate({**base, "tags": ["vip"]}) == {
        "devices": 1,
        "customers": 1,
        "opted_out": 0,
    }
    assert audience_estimate({**base, "platforms": ["ios"]}) == {
        "devices": 1,
        "customers": 1,
        "opted_out": 0,
    }
    assert audience_estimate({**base, "locales": ["en"]}) == {
        "devices": 0,
        "customers": 0,
        "opted_out": 0,
    }
    assert audience_estimate({"scope": "all"}) == {"devices": 4, "customers": 3, "opted_out": 0}
    action.audience_scope = "all"
    action.save()
    action.audience_tags.add(vip)
    incident = post(integration)
    assert incident.policy["audience"]["tags"] == ["vip"]
    send_pending("push")
    assert outbox_tokens() == ["tok-c2", "tok-c3"]
