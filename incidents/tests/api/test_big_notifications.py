"""A storm's notification is never refused: 5,000 realistic alerts in one body, all counted."""

import json
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from rest_framework.test import APIClient

from actions.models import TriggerRule
from incidents import services
from incidents.models import AlertInstance, Incident, Report
from incidents.tests.senders import make_integration


def storm_notification(count: int) -> dict:
    """What Alertmanager sends for a group of `count` alerts (labels, annotations, URLs)."""
    started = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    alerts = []
    for n in range(count):
        labels = {
            "alertname": "LoginHighErrorRate",
            "service": "login",
            "code": "503",
            "severity": "critical",
            "team": "digital-channels",
            "env": "prod",
            "cluster": f"prod-sa-east-1-{n % 3}",
            "namespace": "login",
            "pod": f"login-api-7d9f8b6c5-{n:05d}",
            "instance": f"10.42.{n // 250}.{n % 250}:8080",
            "job": "login-api",
        }
        alerts.append(
            {
                "status": "firing",
                "labels": labels,
                "annotations": {
                    "summary": f"login-api pod {labels['pod']} answers 503 to "
                    "more than 5% of requests",
                    "description": "The error ratio over the last 5 minutes is 0.37 "
                    "(threshold 0.05). Customers cannot log in through this pod.",
                    "runbook_url": "https://runbooks.bank.example/login/high-error-rate",
                },
                "startsAt": (started + timedelta(seconds=n % 60)).isoformat(),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus-0.prometheus.monitoring:9090/graph?g0.expr="
                "sum+by+%28pod%29+%28rate%28http_requests_total%7Bjob%3D%22login-api%22%2C"
                "code%3D%22503%22%7D%5B5m%5D%29%29+%2F+sum+by+%28pod%29+%28rate%28"
                "http_requests_total%7Bjob%3D%22login-api%22%7D%5B5m%5D%29%29+%3E+0.05"
                "&g0.tab=1",
                "fingerprint": f"{n:016x}",
            }
        )
    return {
        "receiver": "cxhub",
        "status": "firing",
        "alerts": alerts,
        "groupLabels": {"alertname": "LoginHighErrorRate"},
        "commonLabels": {"alertname": "LoginHighErrorRate", "service": "login", "code": "503"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager-0.monitoring:9093",
        "version": "4",
        "groupKey": '{}:{alertname="LoginHighErrorRate"}',
        "truncatedAlerts": 0,
    }


def test_five_thousand_alert_notification_is_accepted_and_every_alert_counted(scenario, db):
    TriggerRule.objects.get_or_create(
        action=scenario["action"], service=scenario["login"], code="503"
    )
    integration, token = make_integration("alertmanager")
    body = json.dumps(storm_notification(5000))
    assert len(body) > 4 * 1024 * 1024  # several MiB, over the 1 MiB of other endpoints
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    tracemalloc.start()
    start = time.monotonic()
    response = client.post(
        "/api/v1/integrations/alertmanager/", data=body, content_type="application/json"
    )
    accepted = time.monotonic() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert response.status_code == 202, response.content[:300]
    assert len(response.json()["triggers"]) == 5000
    report = Report.objects.get(integration=integration)
    start = time.monotonic()
    assert services.report_process(report.id)  # what the worker's task runs
    counted = time.monotonic() - start
    print(
        f"5,000 alerts, {len(body) / 2**20:.1f} MiB: 202 in {accepted:.2f} s "
        f"(peak {peak / 2**20:.0f} MiB allocated), counted in {counted:.2f} s"
    )
    # The body is read once and parsed once: a few times its size at most, not copies
    # upon copies (the parsed dicts and the 5,000 trigger rows are most of it).
    assert peak < 15 * len(body)
    incident = Incident.objects.get()
    assert incident.occurrences == 5000
    assert AlertInstance.objects.filter(integration=integration).count() == 5000
    assert incident.alerts.count() == 5000
