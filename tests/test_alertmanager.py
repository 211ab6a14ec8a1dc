"""A real Prometheus Alertmanager notifies a running cxhub; a real Celery worker counts."""

import json
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from rest_framework.test import APIClient

from actions.models import TriggerRule
from conftest import make_scenario
from incidents.models import AlertInstance, Incident, Integration, Report
from tests.processes import free_port
from tests.worker import LoggedProcess, running_worker, wait_for

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        ALERTMANAGER is None,
        reason="needs Debian's prometheus-alertmanager (installed by .ci/run)",
    ),
]

ROUTE = """\
route:
  receiver: cxhub
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: cxhub
"""
# The receivers as docs/integrations.md gives them, pointed at the test's cxhub.
RECEIVERS = {
    "webhook": """\
    webhook_configs:
      - url: {url}/api/v1/integrations/alertmanager/
        send_resolved: true
        max_alerts: {max_alerts}
        http_config:
          authorization:
            credentials: {token}
""",
    "pagerduty": """\
    pagerduty_configs:
      - url: {url}/v2/enqueue
        routing_key: {token}
        send_resolved: true
        component: '{{{{ .CommonLabels.service }}}}'
        class: '{{{{ or .CommonLabels.code .CommonLabels.alertname }}}}'
""",
    "opsgenie": """\
    opsgenie_configs:
      - api_url: {url}/
        api_key: {token}
        send_resolved: true
        update_alerts: true
""",
}


class Alertmanager(LoggedProcess):
    def __init__(self, tmp_path, receiver_url, token, receiver="webhook", max_alerts=0):
        self.config = tmp_path / "alertmanager.yml"
        config = ROUTE + RECEIVERS[receiver]
        self.config.write_text(config.format(url=receiver_url, token=token, max_alerts=max_alerts))
        self.storage = tmp_path / "alertmanager-data"
        self.log_path = tmp_path / "alertmanager.log"
        self.url = f"http://127.0.0.1:{free_port()}"
        self.process = None

    def start(self):
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={self.config}",
                f"--storage.path={self.storage}",
                f"--web.listen-address={self.url.removeprefix('http://')}",
                "--cluster.listen-address=",  # no gossip: a single instance
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # LoggedProcess.stop ends its process group
        )
        wait_for(self._ready, timeout=30, message="alertmanager ready")
        return self

    def _ready(self):
        assert self.process.poll() is None, f"alertmanager exited:\n{self.output()}"
        try:
            return requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def post_alerts(self, alerts):
        response = requests.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=5)
        assert response.status_code == 200, response.text


@pytest.fixture
def worker(transactional_db, tmp_path):
    with running_worker(tmp_path) as worker:
        yield worker


@pytest.fixture
def integration():
    # The bank labels its alerts with the HTTP code; the mapping takes it from there.
    integration = Integration(
        name="prometheus", kind="alertmanager", mapping={"code": "labels.code"}
    )
    token = integration.set_new_token()
    integration.save()
    return integration, token


@pytest.fixture
def alertmanager(live_server, integration, tmp_path):
    _, token = integration
    receiver = live_server.url.replace("localhost", "127.0.0.1")
    manager = Alertmanager(tmp_path, receiver, token)
    try:
        yield manager.start()
    finally:
        manager.stop()
        print(manager.output()[-3000:])


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_alertmanager_opens_counts_distinct_alerts_and_resolves(worker, integration, alertmanager):
    scenario = make_scenario()
    TriggerRule.objects.get_or_create(
        action=scenario["action"], service=scenario["login"], code="503"
    )
    integration, _ = integration
    started = datetime.now(UTC).replace(microsecond=0)

    def alert(instance, ends_at=None):
        body = {
            "labels": {
                "alertname": "LoginUnavailable",
                "service": "login",
                "code": "503",
                "instance": instance,
            },
            "annotations": {"summary": f"login on {instance} answers 503"},
            "startsAt": iso(started),
        }
        if ends_at:
            body["endsAt"] = iso(ends_at)
        return body

    def reports_processed():
        reports = Report.objects.filter(integration=integration)
        return reports.count(), reports.filter(processed_at=None).count()

    alertmanager.post_alerts([alert("pod-1"), alert("pod-2")])

    def incident_with(occurrences):
        incident = Incident.objects.first()
        return incident if incident and incident.occurrences >= occurrences else None

    incident = wait_for(lambda: incident_with(2), timeout=30, message="2 alerts counted")

    # Alertmanager re-sends the group every repeat_interval, and Prometheus re-posts
    # firing alerts: none of that is a new occurrence.
    seen = reports_processed()[0]
    alertmanager.post_alerts([alert("pod-1"), alert("pod-2")])
    wait_for(
        lambda: reports_processed()[0] >= seen + 2 and reports_processed()[1] == 0,
        timeout=30,
        message="two more notifications of the same alerts",
    )
    incident.refresh_from_db()
    assert incident.occurrences == 2

    alertmanager.post_alerts([alert("pod-1"), alert("pod-2"), alert("pod-3")])
    incident = wait_for(lambda: incident_with(3), timeout=30, message="third alert counted")

    ended = datetime.now(UTC)
    alertmanager.post_alerts([alert(pod, ends_at=ended) for pod in ("pod-1", "pod-2", "pod-3")])

    def resolved():
        incident.refresh_from_db()
        return incident.status == "resolved"

    wait_for(resolved, timeout=30, message="incident resolved by the resolved notification")
    assert incident.resolved_by == "alertmanager"
    assert incident.occurrences == 3
    assert Incident.objects.count() == 1
    assert sorted(AlertInstance.objects.values_list("status", flat=True)) == ["resolved"] * 3
    kinds = list(incident.events.values_list("kind", flat=True))
    assert kinds.count("alert_firing") == 3
    assert kinds.count("alert_resolved") == 3
    assert kinds[0] == "opened" and kinds.count("resolved") == 1
    # Every notification was kept as it came, with Alertmanager's own shape.
    payloads = list(
        Report.objects.filter(integration=integration).values_list("payload", flat=True)
    )
    assert len(payloads) >= 4
    assert all(p["version"] == "4" and p["receiver"] == "cxhub" for p in payloads)
    assert any(p["status"] == "resolved" for p in payloads)


@pytest.fixture
def alertmanager_for(live_server, tmp_path):
    """Start an Alertmanager with one of the documented receivers, pointed at cxhub."""
    started = []

    def start(receiver, token, max_alerts=0):
        url = live_server.url.replace("localhost", "127.0.0.1")
        manager = Alertmanager(tmp_path, url, token, receiver, max_alerts)
        started.append(manager)
        return manager.start()

    yield start
    for manager in started:
        manager.stop()
        print(manager.output()[-3000:])


def login_alert(instance, started, ended=None):
    body = {
        "labels": {
            "alertname": "LoginUnavailable",
            "service": "login",
            "code": "503",
            "instance": instance,
        },
        "annotations": {"summary": f"login on {instance} answers 503"},
        "startsAt": iso(started),
    }
    if ended:
        body["endsAt"] = iso(ended)
    return body


@pytest.mark.parametrize("receiver", ["pagerduty", "opsgenie"])
def test_group_receivers_count_one_occurrence_per_group_and_resolve(
    worker, alertmanager_for, receiver
):
    """pagerduty_configs and opsgenie_configs send one alert per group (its key: the group)."""
    scenario = make_scenario()
    integration = Integration(name=f"am-{receiver}", kind=receiver)
    token = integration.set_new_token()
    integration.save()
    manager = alertmanager_for(receiver, token)
    started = datetime.now(UTC).replace(microsecond=0)
    manager.post_alerts([login_alert("pod-1", started), login_alert("pod-2", started)])

    def incident_open():
        return Incident.objects.filter(action=scenario["action"]).first()

    incident = wait_for(incident_open, timeout=60, message=f"{receiver}: incident opened")
    # Alertmanager re-sends the group every repeat_interval: the same alert, not counted.
    wait_for(
        lambda: (
            Report.objects.filter(integration=integration).count() >= 3
            and not Report.objects.filter(processed_at=None).exists()
        ),
        timeout=60,
        message="re-sent notifications processed",
    )
    incident.refresh_from_db()
    sent = list(Report.objects.values_list("payload", "processed_at"))
    assert incident.occurrences == 1, sent
    ended = datetime.now(UTC)
    manager.post_alerts([login_alert(pod, started, ended) for pod in ("pod-1", "pod-2")])

    def resolved():
        incident.refresh_from_db()
        return incident.status == "resolved"

    wait_for(resolved, timeout=60, message=f"{receiver}: resolved by the resolved notification")
    assert incident.resolved_by == receiver
    assert Incident.objects.count() == 1
    if receiver == "opsgenie":
        # update_alerts: the group's new message and description go on the timeline.
        assert incident.events.filter(kind="alert_updated").exists()


def test_webhook_max_alerts_is_noted_on_the_timeline(worker, alertmanager_for):
    scenario = make_scenario()
    TriggerRule.objects.get_or_create(
        action=scenario["action"], service=scenario["login"], code="LoginUnavailable"
    )
    integration = Integration(name="am-capped", kind="alertmanager")
    token = integration.set_new_token()
    integration.save()
    manager = alertmanager_for("webhook", token, max_alerts=2)
    started = datetime.now(UTC).replace(microsecond=0)
    manager.post_alerts([login_alert(f"pod-{n}", started) for n in range(5)])

    def noted():
        incident = Incident.objects.first()
        if incident and incident.events.filter(kind="alerts_truncated").exists():
            return incident
        return None

    incident = wait_for(noted, timeout=30, message="truncatedAlerts noted")
    assert incident.occurrences == 2
    note = incident.events.get(kind="alerts_truncated").detail
    assert note.startswith("3 alert(s) of this group left out")


def peak_rss_mib(pid: int) -> float:
    """Return the largest peak RSS (VmHWM) among a process and its children, in MiB."""
    pids = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            pids.append(int(stat.parent.name))
    peaks = []
    for child in pids:
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:
            continue
        peaks += [
            int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM")
        ]
    return max(peaks)


def test_five_thousand_alert_notification_counted_by_a_real_worker(worker):
    """The storm's big group: 202, every alert counted by the worker, its memory bounded."""
    from incidents.tests.api.test_big_notifications import storm_notification

    scenario = make_scenario()
    integration = Integration(name="prometheus-storm", kind="alertmanager")
    token = integration.set_new_token()
    integration.save()
    body = json.dumps(storm_notification(5000))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post(
        "/api/v1/integrations/alertmanager/", data=body, content_type="application/json"
    )
    assert response.status_code == 202
    start = time.monotonic()

    def counted():
        incident = Incident.objects.filter(action=scenario["action"]).first()
        return incident if incident and incident.occurrences == 5000 else None

    wait_for(counted, timeout=240, interval=0.5, message="5,000 alerts counted")
    rss = peak_rss_mib(worker.process.pid)
    print(
        f"5,000 alerts ({len(body) / 2**20:.1f} MiB) counted by the worker in "
        f"{time.monotonic() - start:.1f} s; worker peak RSS {rss:.0f} MiB"
    )
    assert AlertInstance.objects.filter(integration=integration).count() == 5000
    assert rss < 300
