"""Every ingest URL with or without its trailing slash; the documented code default; 411."""

import json

import pytest
from rest_framework.test import APIClient

from conftest import ORIGINAL_PAYLOAD
from incidents.intake import parsers
from incidents.models import Trigger, mappings
from incidents.tests.senders import alert, make_integration, notification


@pytest.mark.parametrize("slash", ["", "/"])
def test_every_ingest_url_answers_with_or_without_a_trailing_slash(db, slash):
    client = APIClient()
    _, cxhub = make_integration("cxhub")
    _, am = make_integration("alertmanager")
    _, pd = make_integration("pagerduty")
    body = notification(alert())
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {cxhub}")
    assert (
        client.post(f"/api/v1/triggers{slash}", ORIGINAL_PAYLOAD, format="json").status_code == 202
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {am}")
    assert (
        client.post(f"/api/v1/integrations/alertmanager{slash}", body, format="json").status_code
        == 202
    )
    client.credentials()
    url = f"/api/v1/integrations/alertmanager/{am}{slash}"
    assert client.post(url, body, format="json").status_code == 202
    event = {
        "routing_key": pd,
        "event_action": "trigger",
        "payload": {"summary": "s", "source": "login", "severity": "error"},
    }
    assert client.post(f"/v2/enqueue{slash}", event, format="json").status_code == 202


def test_code_comes_from_the_code_label_else_the_alert_name():
    mapping = mappings.effective_mapping("alertmanager", {})
    with_code = alert(name="LoginDown", code="503")
    without = alert(name="LoginDown")
    codes = [
        t["code"]
        for t in parsers.parse_alerts(
            notification(with_code, without), mapping, kind="alertmanager"
        )
    ]
    assert codes == ["503", "LoginDown"]


def test_monitoring_integrations_have_no_rate_limit_unless_set(db):
    integration, token = make_integration("alertmanager")
    assert integration.rate_limit == 0  # senders drop a notification answered 429
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = "/api/v1/integrations/alertmanager/"
    assert {
        client.post(url, notification(alert()), format="json").status_code for _ in range(3)
    } == {202}
    integration.refresh_from_db()
    assert (integration.rate_window, integration.rate_count) == (None, 0)  # nothing admitted


def test_chunked_body_on_a_server_that_cannot_end_it_is_411_not_read_as_empty(db):
    _, token = make_integration("alertmanager")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post(
        "/api/v1/integrations/alertmanager/",
        data=json.dumps(notification(alert())),
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411
    assert "Content-Length" in response.json()["detail"]
    assert not Trigger.objects.exists()


def test_other_endpoints_keep_the_one_mebibyte_limit(ingest_client):
    body = {"triggers": [{"service": "login", "code": "503"}], "pad": "x" * (1024 * 1024)}
    response = ingest_client.post("/api/v1/triggers", body, format="json")
    assert response.status_code == 413
    assert "1 MiB" in response.json()["detail"]


def test_the_token_is_checked_before_a_big_body_is_read_and_a_413_is_kept(db, settings):
    settings.CXHUB_MONITORING_MAX_BODY = 100
    integration, token = make_integration("alertmanager")
    big = json.dumps(notification(alert(), alert(fingerprint="fp2")))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    url = "/api/v1/integrations/alertmanager/"
    # An unknown sender learns nothing about the body: its token is refused first.
    assert client.post(url, data=big, content_type="application/json").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.post(url, data=big, content_type="application/json").status_code == 413
    integration.refresh_from_db()
    assert "413 The request body is larger than" in integration.last_error
    assert "max_alerts" in integration.last_error


def test_guessing_webhook_tokens_is_throttled_per_address(db, settings):
    settings.CXHUB_AUTH_FAILURES_PER_MINUTE = 3
    _, token = make_integration("alertmanager")
    client = APIClient()
    url = "/api/v1/integrations/alertmanager/guess-{}"
    body = notification(alert())
    assert [client.post(url.format(n), body, format="json").status_code for n in range(4)] == [
        401,
        401,
        401,
        429,
    ]
    response = client.post(f"/api/v1/integrations/alertmanager/{token}", body, format="json")
    assert response.status_code == 429  # the address, not the token, is held back
    assert int(response["Retry-After"]) >= 1
