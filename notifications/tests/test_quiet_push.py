"""Quiet hours in the fan-out: held until morning, dropped on resolve, or sent if critical."""

from datetime import UTC, datetime, time

import pytest
import time_machine

from incidents import services as incidents
from incidents.counting.sweep import sweep
from notifications.models import Customer, Delivery, PushRecord
from notifications.tests.helpers import ledger, post, send_pending

# 23:00 in Sao Paulo (night), 11:00 in Tokyo (day).
NIGHT_IN_SAO_PAULO = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
SAO_PAULO_MORNING = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)


@pytest.fixture
def night(scenario, settings):
    settings.CXHUB_QUIET_WINDOW = (time(22, 0), time(8, 0))
    Customer.objects.filter(external_id="c1").update(time_zone="America/Sao_Paulo")
    Customer.objects.filter(external_id="c2").update(time_zone="Asia/Tokyo")
    return scenario


def quiet_marks(purpose="outage"):
    return sorted(
        PushRecord.objects.filter(purpose=purpose).values_list("device__token", "quiet_hours")
    )


def test_a_customer_in_their_night_gets_the_push_in_their_morning(night, integration):
    with time_machine.travel(NIGHT_IN_SAO_PAULO, tick=False) as clock:
        incident = post(integration)
        held = Delivery.objects.get(incident=incident, quiet_hours="held")
        assert held.due_at == SAO_PAULO_MORNING
        assert held.key == f"push:{incident.pk}:m{int(SAO_PAULO_MORNING.timestamp())}:0"
        send_pending("push")
        assert ledger("outage") == [("tok-c2", "sent")]  # Tokyo's day: now
        clock.move_to(datetime(2026, 12, 1, 10, 59, tzinfo=UTC))
        send_pending("push")
        assert len(ledger("outage")) == 1  # not before the morning
        clock.move_to(SAO_PAULO_MORNING)
        send_pending("push")
    assert ledger("outage") == [("tok-c1-a", "sent"), ("tok-c1-b", "sent"), ("tok-c2", "sent")]
    assert quiet_marks() == [("tok-c1-a", "held"), ("tok-c1-b", "held"), ("tok-c2", "")]


def test_a_held_push_is_dropped_when_the_incident_resolves_before_morning(night, integration):
    with time_machine.travel(NIGHT_IN_SAO_PAULO, tick=False):
        incident = post(integration)
        send_pending("push")
        incidents.incident_resolve(incident_id=incident.pk, by="test")
        held = Delivery.objects.get(incident=incident, quiet_hours="held")
        assert held.status == "cancelled"
        send_pending("all_clear")
    # Nor an all-clear for the customer who never heard of it.
    assert ledger("all_clear") == [("tok-c2", "sent")]


def test_a_critical_action_sends_in_the_night_and_the_ledger_says_so(night, integration):
    night["action"].push_critical = True
    night["action"].save()
    with time_machine.travel(NIGHT_IN_SAO_PAULO, tick=False):
        post(integration)
        send_pending("push")
    assert quiet_marks() == [("tok-c1-a", "critical"), ("tok-c1-b", "critical"), ("tok-c2", "")]
    assert {s for _, s in ledger("outage")} == {"sent"}


def test_the_sweep_sends_a_held_batch_once_its_morning_comes(
    night, integration, eager_celery, django_capture_on_commit_callbacks
):
    with time_machine.travel(NIGHT_IN_SAO_PAULO, tick=False) as clock:
        incident = post(integration)
        clock.move_to(datetime(2026, 12, 1, 10, 59, tzinfo=UTC))
        with django_capture_on_commit_callbacks(execute=True):
            sweep()
        assert Delivery.objects.get(incident=incident, quiet_hours="held").status == "pending"
        clock.move_to(datetime(2026, 12, 1, 11, 1, tzinfo=UTC))
        with django_capture_on_commit_callbacks(execute=True):
            sweep()
    assert Delivery.objects.get(incident=incident, quiet_hours="held").status == "sent"
    assert len(ledger("outage", status="sent")) == 3


def test_a_customer_who_opts_out_while_held_is_not_told_in_the_morning(night, integration):
    with time_machine.travel(NIGHT_IN_SAO_PAULO, tick=False) as clock:
        post(integration)
        Customer.objects.filter(external_id="c1").update(opt_out_outage=True)
        clock.move_to(SAO_PAULO_MORNING)
        send_pending("push")
    assert ledger("outage") == [("tok-c2", "sent")]


def test_the_time_zones_query_returns_one_row_per_zone_not_per_device(night):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from actions.audiences import audience_of
    from notifications.selectors import audience_parts

    with CaptureQueriesContext(connection) as queries:
        parts = audience_parts(
            audience_of(night["action"]),
            now=NIGHT_IN_SAO_PAULO,
            critical=False,
            window=(time(22, 0), time(8, 0)),
        )
    [distinct] = [q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"]]
    # The model's default ordering by id would make DISTINCT return every device.
    assert "ORDER BY" not in distinct
    assert [p.quiet_hours for p in parts] == ["", "held"]
    assert timezone.is_aware(parts[1].due_at)


def test_the_admin_lists_held_batches_with_their_due_time(night, integration, admin_client):
    with time_machine.travel(NIGHT_IN_SAO_PAULO, tick=False):
        incident = post(integration)
    page = admin_client.get("/admin/notifications/delivery/?quiet_hours=held").content.decode()
    assert f"push:{incident.pk}:m{int(SAO_PAULO_MORNING.timestamp())}:0" in page
    assert f"push:{incident.pk}:0" not in page  # the daytime batch is filtered out
