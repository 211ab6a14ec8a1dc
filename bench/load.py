"""Load tools for the storm benchmark: a broker publish counter and a probe poster."""

import re
import socket
import threading
import time

from tests.storm import probe_body


class BrokerMonitor:
    """Count publishes (LPUSH) per task name with Redis MONITOR, in a thread."""

    TASK = re.compile(rb'\\"task\\": \\"([\w.]+)\\"')

    def __init__(self, port):
        self.port = port
        self.published: dict[str, int] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self.sock.sendall(b"MONITOR\r\n")
        self.sock.settimeout(0.5)
        self.thread.start()
        return self

    def _run(self):
        pending = b""
        while not self.stopping.is_set():
            try:
                chunk = self.sock.recv(1 << 20)
            except TimeoutError:
                continue
            if not chunk:
                return
            pending += chunk
            *lines, pending = pending.split(b"\r\n")
            for line in lines:
                if b'"LPUSH"' in line or b'"lpush"' in line:
                    match = self.TASK.search(line)
                    name = match.group(1).decode() if match else "?"
                    self.published[name] = self.published.get(name, 0) + 1

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sock.close()
        return self.published


class Probes:
    """Post probe triggers (each pages tier 1 at its first occurrence) at a steady rate."""

    def __init__(self, base, token, slugs, receiver, *, every):
        self.base, self.token, self.slugs = base, token, list(slugs)
        self.receiver, self.every = receiver, every
        self.posted: dict[str, float] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import requests

        http = requests.Session()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        for slug in self.slugs:
            if self.stopping.wait(self.every):
                return
            self.posted[slug] = time.monotonic()
            response = http.post(
                f"{self.base}/api/v1/triggers", data=probe_body(slug), headers=headers, timeout=30
            )
            response.raise_for_status()

    def latencies_ms(self) -> list[float]:
        """Milliseconds from each probe's post to its page reaching the receiver."""
        arrived = {}
        for page in self.receiver.to("/page/"):
            slug = page.path.rsplit("/", 1)[-1]
            arrived.setdefault(slug, page.at)
        return [(arrived[s] - t) * 1000 for s, t in self.posted.items() if s in arrived]
