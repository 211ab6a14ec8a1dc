"""The per-provider send-rate limit: in the database by default, in Redis when configured."""

import socket
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from notifications import throttle
from notifications.safeguard_models import SendRate


def redis_url():
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    # This branch's own Redis database; CI's is 15.
    return "redis://127.0.0.1:6379/13"


def test_a_provider_without_a_limit_never_waits(db, settings):
    settings.CXHUB_SEND_RATE_PER_MINUTE = {"sms": 60}
    assert throttle.take("fcm", 1_000_000) == 0.0
    assert not SendRate.objects.exists()


def test_database_schedule_spreads_batches_at_the_rate(db, settings):
    settings.CXHUB_SEND_RATE_REDIS_URL = ""
    settings.CXHUB_SEND_RATE_PER_MINUTE = {"sms": 60}  # one a second
    settings.CXHUB_SEND_RATE_BURST_SECONDS = 1.0
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert throttle.take("sms", 1) == 0.0
        assert throttle.take("sms", 1) == 0.0  # within the one-second burst
        assert throttle.take("sms", 1) == pytest.approx(1.0)  # two queued: wait a second
        clock.shift(timedelta(seconds=1))
        assert throttle.take("sms", 1) == 0.0
        # A batch bigger than the burst starts when there is no backlog, then holds the
        # schedule for its whole length: 10 messages = 10 seconds.
        clock.shift(timedelta(seconds=5))
        assert throttle.take("sms", 10) == 0.0
        assert throttle.take("sms", 1) == pytest.approx(9.0)


def test_database_claim_loses_to_a_worker_that_moved_the_schedule_first(db, settings):
    settings.CXHUB_SEND_RATE_REDIS_URL = ""
    settings.CXHUB_SEND_RATE_PER_MINUTE = {"sms": 60}
    settings.CXHUB_SEND_RATE_BURST_SECONDS = 0.0
    with time_machine.travel(timezone.now(), tick=False):
        assert throttle.take("sms", 1) == 0.0
        # Another worker takes the slot between this read and its update: the
        # conditional UPDATE matches no row, and the read is retried.
        SendRate.objects.update(tat=timezone.now() + timedelta(seconds=30))
        assert throttle.take("sms", 1) == pytest.approx(30.0)


def test_redis_schedule_holds_across_concurrent_senders(settings):
    url = redis_url()
    import redis

    redis.Redis.from_url(url).delete("cxhub:rate:fcm")
    settings.CXHUB_SEND_RATE_REDIS_URL = url
    settings.CXHUB_SEND_RATE_PER_MINUTE = {"fcm": 60_000}  # 1,000 a second
    settings.CXHUB_SEND_RATE_BURST_SECONDS = 0.05
    granted = []
    start = time.monotonic()

    def sender():
        while time.monotonic() - start < 1.0:
            wait = throttle.take("fcm", 10)
            if wait:
                time.sleep(min(wait, 0.02))
            else:
                granted.append(10)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    elapsed = time.monotonic() - start
    # At most the rate over the time taken plus one burst and one batch in flight.
    assert sum(granted) <= 1000 * elapsed + 50 + 10
    assert sum(granted) >= 500  # and the senders were not starved
    redis.Redis.from_url(url).delete("cxhub:rate:fcm")


def test_a_spent_limit_defers_the_batch_instead_of_failing_it(scenario, integration, settings):
    from notifications.models import Delivery
    from notifications.tests.helpers import ledger, post, send_pending

    settings.CXHUB_SEND_RATE_REDIS_URL = ""
    settings.CXHUB_SEND_RATE_PER_MINUTE = {"locmem": 60}  # one a second
    settings.CXHUB_SEND_RATE_BURST_SECONDS = 1.0
    settings.CXHUB_PUSH_BATCH_SIZE = 2
    with time_machine.travel(timezone.now(), tick=False) as clock:
        incident = post(integration)
        first, second = Delivery.objects.filter(incident=incident).order_by("key")
        # The fan-out spreads the batches: two devices a batch, one a second.
        assert (second.due_at - first.due_at).total_seconds() == pytest.approx(2.0)
        send_pending("push")
        assert ledger("outage") == [("tok-c1-a", "sent"), ("tok-c1-b", "sent")]
        clock.shift(timedelta(seconds=2))
        # Someone else used the rate meanwhile: the batch waits its turn, no attempt lost.
        SendRate.objects.update(tat=timezone.now() + timedelta(seconds=5))
        send_pending("push")
        second.refresh_from_db()
        assert (second.status, second.attempts) == ("pending", 0)
        assert second.last_error.startswith("Send-rate limit: waiting 4.0 s")
        assert ledger("outage", status="pending") == [("tok-c2", "pending")]
        clock.shift(timedelta(seconds=5))
        send_pending("push")
    assert ledger("outage") == [("tok-c1-a", "sent"), ("tok-c1-b", "sent"), ("tok-c2", "sent")]
