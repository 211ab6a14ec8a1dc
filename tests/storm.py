"""What the storm drills and `bench/storm.py` share: a recording receiver, realistic
Alertmanager notifications, probe actions, and CPU/RSS readings from /proc.

Everything here talks to cxhub the way the outside world does (HTTP, the database's
rows), so it measures whatever pipeline sits behind the API.
"""

import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The original payload's language, one failed request per post (the realistic storm).
ONE_TRIGGER = '{"gatilhos": [{"servico": "login", "retorno": "503"}]}'


@dataclass
class Received:
    at: float  # time.monotonic() when the body was read
    path: str
    headers: dict
    body: bytes
    extra: dict = field(default_factory=dict)

    def json(self):
        return json.loads(self.body or b"null")

    def idempotency_key(self) -> str:
        """Return the delivery key the sender attached (header or JSON body field), or ''."""
        for name, value in self.headers.items():
            if name.lower() == "idempotency-key":
                return value
        try:
            body = self.json()
        except ValueError:
            return ""
        if isinstance(body, dict):
            for name in ("idempotency_key", "idempotency-key", "Idempotency-Key"):
                if isinstance(body.get(name), str):
                    return body[name]
        return ""


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """Ignore senders that hang up (a timed-out or stopped worker): that is the drill."""


class Receiver:
    """A local HTTP endpoint for pages (Apprise `json://` targets point here).

    Records every POST with its arrival time and headers, answers `{}` after the
    delay configured for the path's first segment, and can hold the first request
    to a path until `release()` (a sender frozen mid-send).
    """

    def __init__(
        self,
        *,
        delays: dict[str, float] | None = None,
        hold: str | None = None,
        host: str = "127.0.0.1",
    ):
        self.delays = delays or {}
        self.hold = hold
        self.held = threading.Event()
        self._release = threading.Event()
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                got = Received(time.monotonic(), self.path, dict(self.headers.items()), body)
                got.extra["client"] = self.client_address[0]
                with receiver.lock:
                    receiver.requests.append(got)
                    hold = receiver.hold and self.path.startswith(receiver.hold)
                    if hold:
                        receiver.hold = None  # only the first one
                if hold:
                    receiver.held.set()
                    receiver._release.wait(timeout=120)
                delay = receiver.delays.get(self.path.strip("/").split("/")[0], 0)
                if delay:
                    time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = QuietServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_port}"
        self.apprise = self.url.replace("http://", "json://")
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def release(self):
        self._release.set()

    def to(self, prefix: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def close(self):
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


def alertmanager_notification(
    count: int, *, first: int = 0, service="login", alertname="LoginErrors"
) -> dict:
    """Return an Alertmanager (webhook v4) notification of `count` distinct firing alerts.

    Shaped like a real group: every alert has its labels, annotations, generator URL
    and fingerprint (about 700 bytes each), so 5,000 alerts make ~3.5 MiB.
    """
    starts = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    common = {"alertname": alertname, "service": service, "severity": "critical"}
    alerts = []
    for n in range(first, first + count):
        labels = {
            **common,
            "instance": f"login-{n:05d}.prod.internal:9100",
            "job": "login-api",
            "pod": f"login-api-7d9f8b6c4-{n:05x}",
            "namespace": "identity",
        }
        alerts.append(
            {
                "status": "firing",
                "labels": labels,
                "annotations": {
                    "summary": f"Login API error rate above 5% on {labels['instance']}",
                    "description": "More than 5% of login requests answered 5xx during the "
                    "last 5 minutes; customers cannot sign in.",
                    "runbook_url": "https://runbooks.example.com/identity/login-errors",
                },
                "startsAt": starts,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.prod.internal:9090/graph?g0.expr="
                "sum+by+%28instance%29+%28rate%28http_requests_total%7Bjob%3D%22login-api%22"
                "%2Ccode%3D~%225..%22%7D%5B5m%5D%29%29+%3E+0.05&g0.tab=1",
                "fingerprint": f"{n:016x}",
            }
        )
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{alertname}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "cxhub",
        "groupLabels": {"alertname": alertname},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.prod.internal:9093",
        "alerts": alerts,
    }


def probe_actions(count: int, *, team=None, target: str = "", prefix="probe"):
    """Create `count` actions, each covering service <prefix><n>/500 and paging tier 1
    at its first occurrence; return their service slugs.

    Tier 1 pages `team`, or (with `target`, an Apprise URL) a team of its own whose
    channel is `<target>/<slug>`, so each page can be matched to its probe.
    """
    from actions.models import Action, Service, Tier, TriggerRule
    from notifications.models import Channel, Team

    slugs = [f"{prefix}{n}" for n in range(count)]
    if target:
        teams = Team.objects.bulk_create(Team(slug=f"team-{s}", name=s) for s in slugs)
        Channel.objects.bulk_create(
            Channel(team=t, kind="apprise", target=f"{target}/{s}")
            for t, s in zip(teams, slugs, strict=True)
        )
    else:
        teams = [team] * count
    services = Service.objects.bulk_create(Service(slug=s, name=s) for s in slugs)
    actions = Action.objects.bulk_create(
        Action(code=f"{prefix[:2].upper()}{n}", name=f"{prefix} {n}", push_threshold=None)
        for n in range(count)
    )
    TriggerRule.objects.bulk_create(
        TriggerRule(action=a, service=s, code="500") for a, s in zip(actions, services, strict=True)
    )
    Tier.objects.bulk_create(
        Tier(action=a, level=1, name="N1", team=t, after_occurrences=1)
        for a, t in zip(actions, teams, strict=True)
    )
    return slugs


def alerts_action():
    """Create the action that counts `alertmanager_notification`'s alerts (login/LoginErrors)."""
    from actions.models import Action, Service, TriggerRule

    login = Service.objects.get_or_create(slug="login", defaults={"name": "Login"})[0]
    action = Action.objects.create(code="AM1", name="Login errors", push_threshold=None)
    TriggerRule.objects.create(action=action, service=login, code="LoginErrors")
    return action


def small_posts_during(post_small, still_processing, *, every=0.1, timeout=120) -> list[float]:
    """Post 1-alert notifications while a big one is processed; return their latencies (s).

    The first goes at once, then one every `every` seconds until `still_processing()`
    is false, so some land while the worker holds whatever the big one needs.
    """
    latencies = []
    deadline = time.monotonic() + timeout
    while True:
        start = time.monotonic()
        post_small(len(latencies))
        latencies.append(time.monotonic() - start)
        if not still_processing() or time.monotonic() > deadline:
            return latencies
        time.sleep(every)


def probe_body(slug: str) -> str:
    return json.dumps({"gatilhos": [{"servico": slug, "retorno": "500"}]})


def descendants(pid: int) -> list[int]:
    """Return pid and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) of pid's tree, reaped children included.

    A live process counts its own utime/stime; one that exited was added to its
    parent's cutime/cstime when reaped, so nothing is counted twice.
    """
    ticks = 0
    for each in descendants(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return ticks / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    """Return the largest peak resident set (VmHWM) of any process in pid's tree."""
    peak = 0
    for each in descendants(pid):
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024
