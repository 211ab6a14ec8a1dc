"""A reopen speaks once: tiers paged before are paged again, customers told the all-clear
hear it is down again, and what the resolve cancelled before sending (held) is kept."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from actions.models import Action
from incidents import services
from incidents.models import Incident, Integration
from incidents.outreach.pushes import push_down_again
from notifications.models import Customer, Delivery, PushRecord
from notifications.tests.helpers import ledger, post, send_pending

MIN = timedelta(minutes=1)
# 23:00 in Sao Paulo (night), 11:00 in Tokyo (day).
NIGHT_IN_SAO_PAULO = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
SAO_PAULO_MORNING = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)


@pytest.fixture
def integration(db):
    return Integration.objects.create(name="m", token_hash="h")


@pytest.fixture
def flapping(scenario, settings):
    Action.objects.filter(pk=scenario["action"].pk).update(flap_minutes=5)
    settings.CXHUB_QUIET_WINDOW = None
    return scenario


def resolve_and_send(incident):
    services.incident_resolve(incident_id=incident.pk, by="ana")
    send_pending("all_clear")


def test_a_reopen_pages_the_tiers_paged_before_saying_it_reopened(flapping, integration):
    with time_machine.travel(datetime(2026, 12, 1, 15, 0, tzinfo=UTC), tick=False) as clock:
        incident = post(integration, times=10)  # N1 paged at 10
        resolve_and_send(incident)
        clock.shift(3 * MIN)
        post(integration, times=1)
    reopen_pages = Delivery.objects.filter(purpose="page", key__endswith=":o1")
    assert [(d.tier_level, d.team.slug) for d in reopen_pages] == [(1, "n1")]
    page = reopen_pages.get()
    assert "reopened" in page.title
    assert "failing again" in page.message
    kinds = list(Incident.objects.get().events.values_list("kind", flat=True))
    assert "reopen_paged" in kinds


def test_customers_told_the_all_clear_hear_it_is_down_again_once(flapping, integration):
    with time_machine.travel(datetime(2026, 12, 1, 15, 0, tzinfo=UTC), tick=False) as clock:
        incident = post(integration)
        send_pending("push")
        resolve_and_send(incident)
        assert len(ledger("all_clear", status="sent")) == 3
        clock.shift(3 * MIN)
        post(integration, times=1)
        again = Delivery.objects.filter(purpose="push", generation=1)
        assert [d.key for d in again] == [f"push:{incident.pk}:g1:0"]
        send_pending("push")
        # A second fan-out of the same generation inserts nothing: keys and ledger.
        incident.refresh_from_db()
        push_down_again(incident, now=datetime.now(UTC))
        send_pending("push")
        down_again = PushRecord.objects.filter(purpose="outage", generation=1, status="sent")
        assert sorted(down_again.values_list("device__token", flat=True)) == [
            "tok-c1-a",
            "tok-c1-b",
            "tok-c2",
        ]
        assert PushRecord.objects.filter(purpose="outage").count() == 6  # 3 + 3, never more
        # The second resolve tells them it is over again, once.
        resolve_and_send(Incident.objects.get())
    assert PushRecord.objects.filter(purpose="all_clear", status="sent", generation=1).count() == 3
    kinds = list(Incident.objects.get().events.values_list("kind", flat=True))
    assert "reopen_pushed" in kinds


def test_a_reopen_within_the_flap_window_keeps_the_push_held_for_the_morning(
    scenario, integration, settings
):
    Action.objects.filter(pk=scenario["action"].pk).update(flap_minutes=5)
    settings.CXHUB_QUIET_WINDOW = (time(22, 0), time(8, 0))
    Customer.objects.filter(external_id="c1").update(time_zone="America/Sao_Paulo")
    Customer.objects.filter(external_id="c2").update(time_zone="Asia/Tokyo")
    with time_machine.travel(NIGHT_IN_SAO_PAULO, tick=False) as clock:
        incident = post(integration)
        send_pending("push")  # Tokyo now; Sao Paulo held until 08:00 there
        held = Delivery.objects.get(incident=incident, quiet_hours="held")
        resolve_and_send(incident)
        held.refresh_from_db()
        assert held.status == "cancelled"
        clock.shift(4 * MIN)
        post(integration, times=1)
        held.refresh_from_db()
        assert (held.status, held.due_at) == ("pending", SAO_PAULO_MORNING)
        clock.move_to(SAO_PAULO_MORNING)
        send_pending("push")
    assert ("tok-c1-a", "sent") in ledger("outage")
    assert ("tok-c1-b", "sent") in ledger("outage")


def test_the_tokyo_customer_reads_tokyo_time_with_its_offset(scenario, integration, settings):
    settings.CXHUB_QUIET_WINDOW = None
    Action.objects.filter(pk=scenario["action"].pk).update(
        push_message="Indisponível desde {started_at}"
    )
    scenario["action"].push_templates.create(
        purpose="outage", locale="en", text="Unavailable since {started_at}"
    )
    Customer.objects.filter(external_id="c1").update(time_zone="America/Sao_Paulo")
    Customer.objects.filter(external_id="c2").update(time_zone="Asia/Tokyo", locale="en")
    with time_machine.travel(datetime(2026, 12, 3, 6, 7, tzinfo=UTC), tick=False):
        post(integration)
        send_pending("push")
    texts = dict(PushRecord.objects.values_list("device__token", "message"))
    assert texts["tok-c2"] == "Unavailable since Dec 3, 2026, 15:07 (UTC+09:00)"
    assert texts["tok-c1-a"] == "Indisponível desde 03/12/2026 03:07 (UTC-03:00)"
