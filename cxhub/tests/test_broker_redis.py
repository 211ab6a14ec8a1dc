"""A Redis acknowledgement that fails still frees its prefetch slot (cxhub/broker_redis.py)."""

import pytest
from django.conf import settings
from kombu import Connection, Queue
from kombu.transport import redis as kombu_redis

from cxhub import broker_redis
from tests.processes import RedisServer, redis_binary

needs_redis = pytest.mark.skipif(redis_binary() is None, reason="redis-server is not installed")


def slot_free_after_a_failed_ack(transport) -> bool:
    """Take the one message prefetch 1 allows, lose Redis, acknowledge it: is a slot free?"""
    redis = RedisServer().start()
    options = {"socket_timeout": 1, "socket_connect_timeout": 1}
    conn = Connection(redis.url, transport=transport, transport_options=options)
    try:
        queue = Queue("pages", routing_key="pages")
        conn.Producer().publish("ring", routing_key="pages", declare=[queue])
        received = []
        consumer = conn.Consumer(
            [queue], callbacks=[lambda _body, message: received.append(message)]
        )
        consumer.qos(prefetch_count=1)
        consumer.consume()
        conn.drain_events(timeout=5)
        (message,) = received
        qos = consumer.channel.qos
        assert not qos.can_consume(), "prefetch 1 with one message held"
        redis.stop()
        with pytest.raises(conn.connection_errors):
            message.ack()  # the error still reaches Celery, which logs "Couldn't ack"
        return qos.can_consume()
    finally:
        conn.collect()  # no goodbye to a server that is gone
        redis.stop()


@needs_redis
def test_a_failed_acknowledgement_frees_its_prefetch_slot():
    assert slot_free_after_a_failed_ack(broker_redis.Transport)


@needs_redis
def test_kombu_s_own_transport_still_keeps_the_slot():
    """When this fails, kombu frees the slot itself: drop cxhub/broker_redis.py."""
    assert not slot_free_after_a_failed_ack(kombu_redis.Transport)


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis"), reason="the Redis broker is not configured"
)
def test_the_redis_broker_url_uses_the_transport_that_frees_the_slot():
    from cxhub.celery import app

    with app.connection_for_write() as conn:
        assert isinstance(conn.transport, broker_redis.Transport)
