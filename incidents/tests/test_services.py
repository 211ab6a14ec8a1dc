from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conftest import post_original
from conftest import record_report as report
from incidents import services
from incidents.counting.drain import report_process
from incidents.counting.sweep import sweep
from incidents.models import Incident, TimelineEvent, TriageAlert, Trigger
from notifications.channels import locmem
from notifications.models import Delivery
from notifications.services import delivery_send


def send_all():
    for delivery_id in Delivery.objects.filter(status="pending").values_list("id", flat=True):
        delivery_send(delivery_id)


def pages(level=None):
    qs = Delivery.objects.filter(purpose=Delivery.Purpose.PAGE)
    return qs.filter(tier_level=level) if level else qs


def test_one_report_is_one_occurrence_and_every_trigger_is_recorded(scenario):
    post_original(3)
    incident = Incident.objects.get()
    assert incident.occurrences == 3
    assert Trigger.objects.filter(incident=incident).count() == 6
    assert incident.events.filter(kind=TimelineEvent.Kind.OPENED).count() == 1


def test_processing_a_report_twice_counts_it_once(scenario):
    rep = report()
    assert report_process(rep.id) is True
    assert report_process(rep.id) is False
    assert Incident.objects.get().occurrences == 1


def test_fifth_report_pushes_the_login_customers_once(scenario):
    post_original(4)
    assert not Delivery.objects.filter(purpose="push").exists()
    post_original(1)
    push = Delivery.objects.get(purpose="push")
    devices = scenario["devices"]
    assert sorted(push.recipients) == sorted(
        devices[t].pk for t in ("tok-c1-a", "tok-c1-b", "tok-c2")
    )
    post_original(10)
    assert Delivery.objects.filter(purpose="push").count() == 1
    send_all()
    from notifications import providers

    assert len(providers.outbox) == 1
    assert sorted(providers.outbox[0]["tokens"]) == ["tok-c1-a", "tok-c1-b", "tok-c2"]
    assert "indisponível" in providers.outbox[0]["body"]


def test_tenth_report_pages_n1_once_and_not_n2(scenario):
    post_original(9)
    assert not pages().exists()
    post_original(3)
    assert pages(1).count() == 1
    assert not pages(2).exists()
    send_all()
    assert [m["target"] for m in locmem.outbox] == ["n1"]
    assert "tier 1 (Analista N1)" in locmem.outbox[0]["title"]


def test_twenty_reports_page_n2_after_n1(scenario):
    post_original(20)
    assert pages(1).count() == 1
    assert pages(2).count() == 1
    assert not pages(3).exists()


def test_time_tiers_fire_from_the_sweep_without_new_triggers(scenario):
    post_original(1)
    incident = Incident.objects.get()
    assert incident.next_check_at == incident.opened_at + timedelta(minutes=5)
    sweep()
    assert not pages().exists()
    with time_machine.travel(incident.opened_at + timedelta(minutes=5, seconds=1)):
        sweep()
    assert pages(1).count() == 1 and not pages(2).exists()
    with time_machine.travel(incident.opened_at + timedelta(minutes=61)):
        sweep()
        sweep()
    assert [pages(level).count() for level in (1, 2, 3)] == [1, 1, 1]
    incident.refresh_from_db()
    assert incident.escalation_level == 3
    assert incident.next_check_at is None


def test_acknowledged_incident_pages_no_further_tier(scenario):
    post_original(10)
    incident = Incident.objects.get()
    assert services.incident_acknowledge(incident_id=incident.pk, by="ana")
    post_original(15)
    with time_machine.travel(incident.opened_at + timedelta(minutes=90)):
        sweep()
    assert [pages(level).count() for level in (1, 2, 3)] == [1, 0, 0]
    assert incident.events.filter(kind="acknowledged", actor="ana").exists()


def test_resolve_sends_the_all_clear_only_to_devices_that_got_the_push(scenario):
    post_original(5)
    send_all()
    incident = Incident.objects.get()
    scenario["devices"]["tok-c2"].customer.devices.create(platform="ios", token="tok-c2-new")
    assert services.incident_resolve(incident_id=incident.pk, by="ana", note="fixed")
    assert not services.incident_resolve(incident_id=incident.pk, by="ana")
    all_clear = Delivery.objects.get(purpose="all_clear")
    assert all_clear.recipients == Delivery.objects.get(purpose="push").recipients
    send_all()
    from notifications import providers

    assert providers.outbox[-1]["body"] == "Voltamos a funcionar"
    assert "tok-c2-new" not in providers.outbox[-1]["tokens"]


def test_resolve_cancels_a_push_not_yet_sent(scenario):
    post_original(5)
    incident = Incident.objects.get()
    services.incident_resolve(incident_id=incident.pk, by="ana")
    assert Delivery.objects.get(purpose="push").status == Delivery.Status.CANCELLED
    assert not Delivery.objects.filter(purpose="all_clear").exists()


def test_a_trigger_after_resolution_opens_a_new_incident(scenario):
    post_original(2)
    first = Incident.objects.get()
    services.incident_resolve(incident_id=first.pk, by="ana")
    post_original(1)
    second = Incident.objects.exclude(pk=first.pk).get()
    assert second.occurrences == 1
    assert second.status == Incident.Status.OPEN


def test_uncovered_trigger_pages_triage_at_most_once_an_hour(scenario):
    for _ in range(3):
        report_process(report(("login", "500")).id)
    alert = TriageAlert.objects.get()
    assert alert.occurrences == 3
    triage = Delivery.objects.filter(purpose="triage")
    assert triage.count() == 1
    assert "/admin/actions/action/add/?service=login&code=500" in triage.get().message
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        report_process(report(("login", "500")).id)
    assert triage.count() == 2
    assert not Incident.objects.exists()


def test_a_triage_storm_is_one_digest_page_a_minute(scenario):
    # 300 new uncovered pairs in one notification: one page listing them, not 300.
    many = [(f"svc{i}", "500") for i in range(300)]
    report_process(report(*many).id)
    triage = Delivery.objects.filter(purpose="triage")
    assert triage.count() == 1  # the triage team has one channel
    page = triage.get()
    assert page.title == "[cxhub] No action covers 300 service/code pairs"
    assert "svc0/500" in page.message and "and 280 more" in page.message
    # A new pair within the minute waits for the next digest...
    report_process(report(("boleto", "500")).id)
    assert triage.count() == 1
    assert TriageAlert.objects.get(service="boleto").page_pending
    assert sweep()["triage"] == 0
    # ...which the sweep sends once the minute is over.
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert sweep()["triage"] == 1
    assert triage.count() == 2
    assert "boleto/500" in triage.order_by("created_at").last().message


def test_tiers_are_frozen_when_the_incident_opens(scenario):
    post_original(1)
    scenario["action"].tiers.filter(level=1).update(after_occurrences=2)
    post_original(2)
    assert not pages().exists()


@pytest.mark.parametrize("count", [1, 3])
def test_report_matching_several_actions_counts_each_once(scenario, count):
    from actions.models import Action, TriggerRule

    other = Action.objects.create(code="0002", name="Login 5xx")
    TriggerRule.objects.create(action=other, service=scenario["login"], code="5xx")
    post_original(count)
    assert sorted(Incident.objects.values_list("occurrences", flat=True)) == [count, count]
