"""A pages worker whose Redis goes silent while it acknowledges a message consumes again.

The Procfile's `pages` line (one process, prefetch 1, late acknowledgement) reaches a
throwaway redis-server through a proxy that goes silent (no byte either way, nothing
closed or refused: vanished packets) the moment the worker sends its acknowledgement,
for longer than the broker's socket timeout. The acknowledgement fails with "Timeout
reading from socket"; kombu's Redis transport then still counted the finished message
against the prefetch limit and the worker never asked for another one (the hosts
drill's 1-in-11 failure). A message published after the heal must be consumed.
"""

import select
import socket
import threading
import time
import uuid

import pytest
import redis as redis_py
from django.conf import settings
from django.db import connection

from cxhub.celery import app
from notifications.deliveries import PAGES_QUEUE, SEND_TASK
from tests.processes import ProcfileProcess, RedisServer, redis_binary
from tests.worker import database_url, wait_for

pytestmark = [
    pytest.mark.drill,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "not postgresql_and_redis()", reason="the Redis cut runs in the PostgreSQL + Redis pass"
    ),
    pytest.mark.skipif(redis_binary() is None, reason="redis-server is not installed"),
]

CUT_SECONDS = 8  # longer than the broker's socket_timeout (5 s)


def postgresql_and_redis() -> bool:
    return connection.vendor == "postgresql" and settings.CELERY_BROKER_URL.startswith("redis")


class SilentProxy:
    """A TCP proxy to a local server that can go silent for a while.

    While silent it forwards nothing in either direction and closes or refuses nothing
    (new connections are accepted and wait): what a client sees when its packets vanish.
    Bytes it holds are sent on after the heal, as TCP's retransmissions would deliver them.
    `go_silent_on(marker)` makes it go silent the moment a client sends `marker`.
    """

    def __init__(self, upstream_port: int, seconds: float):
        self.upstream_port = upstream_port
        self.seconds = seconds
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.peers: dict[socket.socket, socket.socket] = {}
        self.clients: set[socket.socket] = set()
        self.held: list[tuple[socket.socket, bytes]] = []
        self.marker: bytes | None = None
        self.silent_from: float | None = None
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.running = False
        self.thread.join(timeout=5)
        for sock in [self.listener, *self.peers]:
            sock.close()

    def go_silent_on(self, marker: bytes):
        self.marker = marker

    def healed(self) -> bool:
        return self.silent_from is not None and not self._silent()

    def _silent(self) -> bool:
        return self.silent_from is not None and time.monotonic() < self.silent_from + self.seconds

    def _run(self):
        while self.running:
            silent = self._silent()
            if not silent:
                for sock, data in self.held:
                    self._send(sock, data)
                self.held.clear()
            watched = [self.listener] + ([] if silent else list(self.peers))
            readable, _, _ = select.select(watched, [], [], 0.05)
            for sock in readable:
                if sock is self.listener:
                    self._accept()
                elif sock in self.peers:
                    self._forward(sock)

    def _accept(self):
        client, _ = self.listener.accept()
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        self.peers[client], self.peers[upstream] = upstream, client
        self.clients.add(client)

    def _forward(self, sock: socket.socket):
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._close(sock)
        elif self.marker and sock in self.clients and self.marker in data:
            self.marker = None
            self.silent_from = time.monotonic()
            self.held.append((sock, data))
        else:
            self._send(sock, data)

    def _send(self, sock: socket.socket, data: bytes):
        """Send what `sock` sent on to its other end; a failed send closes both."""
        if sock not in self.peers:
            return
        try:
            self.peers[sock].sendall(data)
        except OSError:
            self._close(sock)

    def _close(self, sock: socket.socket):
        other = self.peers.pop(sock)
        self.peers.pop(other, None)
        self.clients.discard(sock)
        self.clients.discard(other)
        sock.close()
        other.close()


def publish_page(redis: RedisServer) -> str:
    """Publish a send for a delivery that does not exist (the task finds nothing to claim)."""
    with app.connection_for_write(redis.url) as conn:
        result = app.send_task(SEND_TASK, [str(uuid.uuid4())], queue=PAGES_QUEUE, connection=conn)
    return result.id


def unacknowledged(redis: RedisServer) -> int:
    """Messages delivered and not yet acknowledged, asked of the server itself."""
    with redis_py.Redis(port=redis.port, socket_timeout=5) as client:
        return client.hlen("unacked")


def test_pages_worker_consumes_after_redis_went_silent_during_an_ack(tmp_path):
    redis = RedisServer().start()
    proxy = SilentProxy(redis.port, seconds=CUT_SECONDS).start()
    env = {
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": proxy.url,
        "CXHUB_VAR_DIR": str(settings.VAR_DIR),
        "SECRET_KEY": settings.SECRET_KEY,
        "LOG_LEVEL": "DEBUG",  # a task's "succeeded" line is bookkeeping, kept at DEBUG
    }
    pages = ProcfileProcess("pages", tmp_path / "pages.log", env, ready="ready.")
    try:
        pages.start()
        first = publish_page(redis)
        wait_for(lambda: f"[{first}] succeeded" in pages.output(), timeout=30, message="first page")
        wait_for(lambda: unacknowledged(redis) == 0, timeout=10, message="first page acknowledged")
        # The acknowledgement of the next message (MULTI, ZREM from the unacked index…).
        proxy.go_silent_on(b"ZREM")
        second = publish_page(redis)
        wait_for(proxy.healed, timeout=60, message="the proxy went silent and healed")
        assert "Couldn't ack" in pages.output(), "the silence did not hit an acknowledgement"
        assert f"[{second}] succeeded" in pages.output()

        third = publish_page(redis)
        wait_for(
            lambda: f"[{third}] succeeded" in pages.output(),
            timeout=30,
            message="the pages worker consumes again after Redis answered again",
        )
        assert pages.process.poll() is None
    finally:
        pages.stop()
        proxy.stop()
        redis.stop()
        print(pages.output()[-5000:])
