"""Send-rate throttling per push provider: batches over the rate wait for a slot."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from notifications import throttle
from notifications.models import Delivery, PushRecord
from notifications.services import delivery_send, push_switch_set
from notifications.tests.helpers import outbox_tokens, post
from notifications.tests.throttle_state import schedules_reset

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def one_per_second(settings):
    settings.CXHUB_PUSH_RATE_LIMITS = {"locmem": 60}
    settings.CXHUB_PUSH_RATE_BURST_SECONDS = 0
    settings.CXHUB_THROTTLE_REDIS_URL = ""
    settings.CXHUB_PUSH_BATCH_SIZE = 1


def test_batches_over_the_rate_wait_for_their_slot_instead_of_failing(
    scenario, integration, one_per_second
):
    with time_machine.travel(T0, tick=False):
        incident = post(integration)
        batches = list(Delivery.objects.filter(incident=incident).order_by("key"))
        assert len(batches) == 3
        for batch in batches:
            delivery_send(batch.pk)
        assert outbox_tokens() == ["tok-c1-a"]
        waiting = list(Delivery.objects.filter(incident=incident, status="pending"))
        assert sorted((d.due_at - T0).seconds for d in waiting) == [1, 2]
        assert all(d.attempts == 0 and d.rate_slot_at == d.due_at for d in waiting)
        assert "Send rate of locmem (60/min) spent" in waiting[0].last_error
        # Their ledger rows wait too, neither failed nor lost.
        assert PushRecord.objects.filter(incident=incident, status="pending").count() == 2
        assert all(delivery_send(d.pk) is None for d in waiting)  # not due yet

    for second in (1, 2):
        with time_machine.travel(T0 + timedelta(seconds=second), tick=False):
            for delivery in waiting:
                delivery_send(delivery.pk)
            assert len(outbox_tokens()) == 1 + second
    assert set(Delivery.objects.filter(incident=incident).values_list("status", flat=True)) == {
        "sent"
    }
    assert PushRecord.objects.filter(incident=incident, status="sent").count() == 3
    # Back at their slot they sent without reserving another: the schedule is free at +3 s.
    assert throttle.slot_reserve("locmem", 1, now=T0 + timedelta(seconds=2)) == T0 + timedelta(
        seconds=3
    )


def test_a_kill_switch_cancels_waiting_batches_and_their_ledger_rows(
    scenario, integration, one_per_second
):
    with time_machine.travel(T0, tick=False):
        incident = post(integration)
        for batch in Delivery.objects.filter(incident=incident):
            delivery_send(batch.pk)
        push_switch_set(paused=True, by="ops")
    rows = PushRecord.objects.filter(incident=incident)
    assert sorted(rows.values_list("status", flat=True)) == ["failed", "failed", "sent"]
    assert "global push kill switch (ops)" in rows.filter(status="failed").first().error
    assert Delivery.objects.filter(incident=incident, status="cancelled").count() == 2


def test_a_provider_without_a_limit_is_not_throttled(scenario, integration, settings):
    settings.CXHUB_PUSH_RATE_LIMITS = {"fcm": 60}
    settings.CXHUB_PUSH_BATCH_SIZE = 1
    incident = post(integration)
    for batch in Delivery.objects.filter(incident=incident):
        delivery_send(batch.pk)
    assert len(outbox_tokens()) == 3


def _schedule_spreads(now):
    # 600 a minute: 100 messages take 10 s of the schedule, queued one after the other.
    assert throttle.slot_reserve("fcm", 100, now=now) is None
    assert throttle.slot_reserve("fcm", 100, now=now) == now + timedelta(seconds=10)
    assert throttle.slot_reserve("fcm", 100, now=now + timedelta(seconds=1)) == now + timedelta(
        seconds=20
    )
    # Once the schedule is behind the clock, a batch sends at once again.
    assert throttle.slot_reserve("fcm", 100, now=now + timedelta(minutes=5)) is None


def test_the_database_schedule_lines_batches_up(db, settings):
    settings.CXHUB_PUSH_RATE_LIMITS = {"fcm": 600}
    settings.CXHUB_PUSH_RATE_BURST_SECONDS = 1
    settings.CXHUB_THROTTLE_REDIS_URL = ""
    _schedule_spreads(T0)


def test_the_redis_schedule_lines_batches_up(db, settings):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/8"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CXHUB_PUSH_RATE_LIMITS = {"fcm": 600}
    settings.CXHUB_PUSH_RATE_BURST_SECONDS = 1
    settings.CXHUB_THROTTLE_REDIS_URL = url
    schedules_reset()
    try:
        _schedule_spreads(T0)
        assert not throttle.SendRateSchedule.objects.exists()  # Redis held it, not the database
    finally:
        schedules_reset()


def test_redis_down_falls_back_to_the_database(db, settings):
    settings.CXHUB_PUSH_RATE_LIMITS = {"fcm": 600}
    settings.CXHUB_PUSH_RATE_BURST_SECONDS = 1
    settings.CXHUB_THROTTLE_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    assert throttle.slot_reserve("fcm", 100, now=T0) is None
    assert throttle.slot_reserve("fcm", 100, now=T0) == T0 + timedelta(seconds=10)
    assert throttle.SendRateSchedule.objects.get().free_at == T0 + timedelta(seconds=20)


def test_the_sms_gateway_contract_throttles_the_fallback_too(scenario, integration, settings):
    from notifications import fallback
    from notifications.models import Customer

    settings.CXHUB_SMS_PROVIDER = "locmem"
    settings.CXHUB_PUSH_RATE_LIMITS = {"sms:locmem": 60}
    settings.CXHUB_PUSH_RATE_BURST_SECONDS = 0
    settings.CXHUB_THROTTLE_REDIS_URL = ""
    fallback.outbox.clear()
    scenario["action"].push_fallback = "sms"
    scenario["action"].save()
    customer = Customer.objects.create(external_id="c4", phone="+5511999990004", phone_consent=True)
    customer.services.add(scenario["login"])
    throttle.slot_reserve("sms:locmem", 30, now=T0)  # the gateway is busy for 30 s
    with time_machine.travel(T0, tick=False):
        incident = post(integration)
        for delivery in Delivery.objects.filter(incident=incident, purpose="push"):
            delivery_send(delivery.pk)
        [sms] = Delivery.objects.filter(incident=incident, purpose="fallback")
        delivery_send(sms.pk)
        sms.refresh_from_db()
        assert (sms.status, sms.due_at, fallback.outbox) == (
            "pending",
            T0 + timedelta(seconds=30),
            [],
        )
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        delivery_send(sms.pk)
    assert [m["to"] for m in fallback.outbox] == [["+5511999990004"]]
    fallback.outbox.clear()


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (
            "fcm=60000,webhook=6000,sms:webhook=600",
            "{'fcm': 60000, 'webhook': 6000, 'sms:webhook': 600}",
        ),
        ("fcm=many", "give provider=messages per minute"),
        ("fcm=0", "at least 1 per minute"),
    ],
)
def test_rate_limits_are_read_from_the_environment_or_refused_at_startup(value, printed):
    import os
    import subprocess
    import sys

    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CXHUB_PUSH_RATE_LIMITS)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cxhub.settings",
        "CXHUB_PUSH_RATE_LIMITS": value,
    }
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert printed in result.stdout + result.stderr
