"""The zero-setup broker never hands a consumer a half-written message."""

import logging
import threading
from queue import Empty

import pytest
from django.conf import settings
from kombu import Connection

from cxhub import broker


@pytest.fixture
def channel(tmp_path):
    queue = tmp_path / "queue"
    queue.mkdir()
    options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "control_folder": str(tmp_path),
        "store_processed": False,
    }
    with Connection("filesystem://", transport=broker.Transport, transport_options=options) as conn:
        yield conn.default_channel


def test_a_consumer_sees_nothing_while_a_message_is_written_then_all_of_it(
    channel, monkeypatch, caplog
):
    seen_during_write = []
    real_open = open

    class Racing:
        """A file whose write lets another consumer look at the queue first."""

        def __init__(self, f):
            self.f = f

        def write(self, data):
            try:
                seen_during_write.append(channel._get("celery"))
            except Empty:
                seen_during_write.append(None)
            return self.f.write(data)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(broker, "open", lambda *a, **kw: Racing(real_open(*a, **kw)), raising=False)
    caplog.set_level(logging.WARNING, logger="cxhub.broker")

    channel._put("celery", {"body": "ring"})

    assert seen_during_write == [None]
    assert channel._size("celery") == 1
    assert channel._get("celery") == {"body": "ring"}
    assert not caplog.records
    with pytest.raises(Empty):
        channel._get("celery")


def test_an_unreadable_message_is_dropped_and_the_next_one_delivered(channel, tmp_path, caplog):
    (tmp_path / "queue" / "0_left-by-an-old-version.celery.msg").write_bytes(b"")
    caplog.set_level(logging.WARNING, logger="cxhub.broker")
    channel._put("celery", {"body": "next"})

    assert channel._get("celery") == {"body": "next"}
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == ["dropped an unreadable message of queue 'celery'"]
    with pytest.raises(Empty):
        channel._get("celery")


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("filesystem://"),
    reason="the filesystem broker is not configured",
)
def test_the_filesystem_broker_url_uses_the_atomic_transport():
    from cxhub.celery import app

    with app.connection_for_write() as conn:
        assert isinstance(conn.transport, broker.Transport)


def test_an_empty_exchange_table_reads_as_no_queues_and_takes_a_binding(channel, tmp_path):
    (tmp_path / "fan.exchange").write_bytes(b"")  # just created by another process
    assert channel.get_table("fan") == []
    channel._queue_bind("fan", "", "", "q1")
    channel._queue_bind("fan", "", "", "q1")
    channel._queue_bind("fan", "", "", "q2")
    assert [q.queue for q in channel.get_table("fan")] == ["q2", "q1"]
    channel._delete("q1", "fan", "", "")
    assert [q.queue for q in channel.get_table("fan")] == ["q2"]


def test_workers_starting_at_once_each_find_their_queue_in_the_table(tmp_path):
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    options["control_folder"] = str(tmp_path)
    connections = [
        Connection("filesystem://", transport=broker.Transport, transport_options=options)
        for _ in range(8)
    ]
    try:
        channels = [c.default_channel for c in connections]
        for round_ in range(20):
            exchange = f"fan{round_}"
            start = threading.Barrier(len(channels))

            def bind(channel, n, exchange=exchange, start=start):
                start.wait()
                channel._queue_bind(exchange, "", "", f"worker{n}")

            threads = [threading.Thread(target=bind, args=(ch, n)) for n, ch in enumerate(channels)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=10)
            table = channels[0].get_table(exchange)
            assert sorted(q.queue for q in table) == [f"worker{n}" for n in range(8)]
    finally:
        for c in connections:
            c.release()
