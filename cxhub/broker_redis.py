"""kombu's Redis transport, with an acknowledgement that always frees its prefetch slot.

kombu emulates acknowledgements on Redis: a delivered message is kept in an "unacked"
hash until the consumer acknowledges it, and the channel counts the messages it holds
against the prefetch limit. kombu's ``QoS.ack`` (and ``reject``) first removes the
message from that hash, then frees its slot. When Redis does not answer in time
("Timeout reading from socket") or the connection drops, the removal raises before
the slot is freed; Celery logs "Couldn't ack" and goes on, but the channel keeps
counting the finished message as in flight. Nothing else frees it while the connection
lives, so a worker with ``--prefetch-multiplier 1 --concurrency 1`` (the Procfile's
``pages``) never asks Redis for another message: alive, connected, consuming nothing.
Up to kombu 5.7.0 (the newest release) this is so.

Here the slot is freed whatever Redis answered, and the error still reaches Celery. The
message stays in Redis's unacked hash and comes back after ``visibility_timeout``; its
task runs again and finds its row done (every piece of work is a row, claimed by a
conditional update), and the beat sweep re-enqueues sooner what was left undone.

Settings select it for ``redis://`` and ``rediss://`` URLs (``CELERY_BROKER_TRANSPORT``).
"""

from kombu.transport import redis
from kombu.transport.virtual import QoS as VirtualQoS


class QoS(redis.QoS):
    def ack(self, delivery_tag):
        try:
            super().ack(delivery_tag)
        finally:
            # Free the slot even when Redis did not answer (marking it twice is harmless).
            VirtualQoS.ack(self, delivery_tag)

    def reject(self, delivery_tag, requeue=False):
        try:
            super().reject(delivery_tag, requeue=requeue)
        finally:
            VirtualQoS.ack(self, delivery_tag)


class Channel(redis.Channel):
    QoS = QoS


class Transport(redis.Transport):
    Channel = Channel
