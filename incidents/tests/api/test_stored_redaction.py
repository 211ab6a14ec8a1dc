"""Every stored payload loses the request's credentials, on every ingest path."""

import base64
import json

import pytest
from rest_framework.test import APIClient

from incidents.models import ChangeEvent, Report, TimelineEvent, Trigger
from incidents.tests.senders import make_integration

SECRETS = ("hunter2-db-password", "c3VwcG9ydDpodW50ZXIy", "s3cr3t-url-pass")


def stored_text():
    """Everything a Support person could read of what was ingested."""
    rows = [
        *Report.objects.values_list("payload", flat=True),
        *Trigger.objects.values_list("summary", flat=True),
        *ChangeEvent.objects.values_list("summary", "source", "links", "details"),
        *TimelineEvent.objects.values_list("detail", flat=True),
    ]
    return json.dumps(rows, default=str)


def assert_clean(*credentials):
    text = stored_text()
    for secret in (*SECRETS, *credentials):
        assert secret not in text, secret


def leaky(credential):
    """A payload a careless sender builds: its own credential and others', in free text."""
    return {
        "password": "hunter2-db-password",
        "headers": "Authorization: Basic c3VwcG9ydDpodW50ZXIy",
        "runbook": "https://ops:s3cr3t-url-pass@wiki.example/runbook",
        "note": f"sent with key {credential}",
    }


def test_opsgenie_alert_payload_loses_every_credential(scenario, db):
    _, token = make_integration("opsgenie", name="og")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"GenieKey {token}")
    body = {
        "message": f"login down (key {token})",
        "alias": "a1",
        "description": f"GenieKey {token}",
        "details": {"alertname": "LoginDown", "service": "login", **leaky(token)},
    }
    assert client.post("/v2/alerts", body, format="json").status_code == 202
    assert client.put(
        "/v2/alerts/a1/message?identifierType=alias",
        {"message": f"still down, key {token}"},
        format="json",
    ).status_code in (202, 404)
    assert_clean(token)


def test_pagerduty_routing_key_repeated_in_the_summary_is_redacted(scenario, db):
    _, token = make_integration("pagerduty", name="pd")
    body = {
        "routing_key": token,
        "event_action": "trigger",
        "payload": {
            "summary": f"login down, routing key {token}",
            "source": "login",
            "severity": "critical",
            "custom_details": leaky(token),
        },
    }
    assert APIClient().post("/v2/enqueue", body, format="json").status_code == 202
    assert_clean(token)


def test_change_events_lose_credentials_on_both_paths(scenario, db):
    _, token = make_integration("pagerduty", name="ci")
    change = {
        "routing_key": token,
        "payload": {
            "summary": f"Deploy login v2 with {token}",
            "source": "ci",
            "custom_details": {"service": "login", "DB_PASSWORD": "hunter2-db-password"},
        },
        "links": [{"href": f"https://ci.example/run/1?token={token}", "text": "run"}],
    }
    assert APIClient().post("/v2/change/enqueue", change, format="json").status_code == 202
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    generic = {
        "service": "login",
        "summary": "config change",
        "details": leaky(token),
        "links": [{"href": "https://ci.example/run/2?token=abcdef123456", "text": "run"}],
    }
    assert client.post("/api/v1/changes", generic, format="json").status_code == 201
    assert_clean(token, "abcdef123456")


def test_basic_auth_credentials_are_redacted_wherever_they_appear(scenario, db):
    _, token = make_integration("generic", name="gen")
    basic = base64.b64encode(f"monitor:{token}".encode()).decode()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {
        "service": "login",
        "code": "503",
        "summary": f"Authorization: Basic {basic}",
        "extra": leaky(token),
    }
    response = client.post("/api/v1/integrations/generic/", body, format="json")
    assert response.status_code == 202, response.content
    assert_clean(token, basic)


@pytest.mark.parametrize(
    "href", ["javascript:alert(document.cookie)", "data:text/html,<script>", "//evil.example"]
)
def test_change_links_are_http_or_https_only(scenario, db, href):
    _, token = make_integration("generic", name="gen")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {"service": "login", "summary": "deploy", "links": [{"href": href, "text": "x"}]}
    response = client.post("/api/v1/changes", body, format="json")
    assert response.status_code == 400
    assert not ChangeEvent.objects.exists()
