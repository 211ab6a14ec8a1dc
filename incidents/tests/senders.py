"""Helpers for tests of monitoring senders: integrations, their requests and notifications."""

import json

from rest_framework.test import APIClient

from incidents import services
from incidents.models import Integration, Report


def make_integration(kind, name=None, **fields):
    integration = Integration(name=name or kind, kind=kind, **fields)
    token = integration.set_new_token()
    integration.save()
    return integration, token


def send(kind, token, body, *, method="post", path_token=False, header=True):
    client = APIClient()
    url = f"/api/v1/integrations/{kind}/"
    if path_token:
        url += token
    elif header:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return getattr(client, method)(url, data=data, content_type="application/json")


def process_all():
    for report_id in Report.objects.filter(processed_at=None).values_list("id", flat=True):
        services.report_process(report_id)


STARTS = "2026-11-28T03:00:00.000Z"


def alert(name="HighErrorRate", service="login", fingerprint="fp1", status="firing", **extra):
    starts_at = extra.pop("startsAt", STARTS)
    return {
        "status": status,
        "labels": {"alertname": name, "service": service, "severity": "critical", **extra},
        "annotations": {"summary": f"{service} {name}"},
        "startsAt": starts_at,
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": fingerprint,
    }


def notification(*alerts, status="firing"):
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "cxhub",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }
