"""Slow clients cannot stall the web tier: /healthz answers while 50 connections dribble.

The web process is the Procfile's own `web` line, on 127.0.0.1 only: whatever fronts
gunicorn there (the buffering proxy) is what is tested.
"""

import socket
import threading
import time

import requests

from tests.processes import ProcfileProcess, free_port, port_open, procfile_commands
from tests.worker import wait_for

SLOW_CLIENTS = 50


def dribble(port, stop, opened):
    """Open a connection and send a request's headers one byte a second, never finishing."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return
    opened.append(sock)
    header = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100
    for byte in header:
        if stop.is_set():
            break
        try:
            sock.send(bytes([byte]))
        except OSError:
            break
        stop.wait(1)
    sock.close()


def test_healthz_answers_within_a_second_while_fifty_clients_dribble_headers(tmp_path):
    port = free_port()
    env = {"CXHUB_PORT": str(port), "CXHUB_VAR_DIR": str(tmp_path)}
    # The Procfile's public side: its proxy (when it has one) and gunicorn.
    web = [
        ProcfileProcess(name, tmp_path / f"{name}.log", env)
        for name in ("proxy", "web")
        if name in procfile_commands()
    ]
    stop, opened = threading.Event(), []
    threads = []
    try:
        for process in web:
            process.start()
        wait_for(lambda: port_open(port), timeout=60, message="web listening")
        wait_for(
            lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok,
            timeout=60,
            message="healthz answers",
        )
        for _ in range(SLOW_CLIENTS):
            thread = threading.Thread(target=dribble, args=(port, stop, opened), daemon=True)
            thread.start()
            threads.append(thread)
        time.sleep(3)  # every slow client is connected and mid-headers
        assert len(opened) == SLOW_CLIENTS
        timings = []
        for _ in range(5):
            start = time.monotonic()
            response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            timings.append(time.monotonic() - start)
            assert response.status_code == 200
            time.sleep(0.5)
        assert max(timings) < 1.0, timings
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
        for process in web:
            process.stop()
