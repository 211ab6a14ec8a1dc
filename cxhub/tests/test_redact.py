"""No credential is kept in a stored payload or written to a log line."""

import logging
from datetime import timedelta
from types import SimpleNamespace

from rest_framework.test import APIClient

from cxhub import redact
from cxhub.gunicorn import RedactingLogger
from cxhub.logs import RedactFilter
from incidents.models import Integration, Report


def make(kind):
    integration = Integration(name=f"i-{kind}", kind=kind)
    token = integration.set_new_token()
    integration.save()
    return token


def test_payload_loses_credential_fields_and_the_token_wherever_it_appears():
    token = "s3cr3t-token-value"
    data = {
        "routing_key": token,
        "headers": {"Authorization": "Bearer abcdefghijkl", "X-Api-Key": "k-123456"},
        "alerts": [{"annotations": {"summary": f"see https://x/?token={token}"}}],
        "url": "json://user:hunter22@hooks.example/path",
        "dedup_key": "keep-me",
        "password": "",
    }
    clean = redact.payload(data, secrets=[token])
    assert token not in str(clean) and "hunter22" not in str(clean)
    assert clean["routing_key"] == clean["headers"]["X-Api-Key"] == "[redacted]"
    assert clean["headers"]["Authorization"] == "[redacted]"
    assert clean["dedup_key"] == "keep-me" and clean["password"] == ""
    assert clean["url"] == "json://user:[redacted]@hooks.example/path"
    assert data["routing_key"] == token  # the original is left alone


def test_urls_lose_tokens_in_path_and_credential_parameters():
    assert redact.url("/api/v1/integrations/grafana/abc123?x=1") == (
        "/api/v1/integrations/grafana/[redacted]?x=1"
    )
    logged = redact.text("json://u:pw1234@hooks.example/p?-X-Api-Key=K123&+Authorization=Z&a=1")
    assert "pw1234" not in logged and "K123" not in logged and "=Z" not in logged
    assert logged.endswith("&a=1")
    # Delivery keys carried to receivers are not credentials.
    assert "Idempotency-Key=page" in redact.url("json://h/p?+Idempotency-Key=page:1")


def test_pagerduty_routing_key_is_not_stored_nor_shown_to_support(scenario, admin_client):
    token = make("pagerduty")
    event = {
        "routing_key": token,
        "event_action": "trigger",
        "payload": {"summary": "login down", "source": "login", "severity": "critical"},
    }
    assert APIClient().post("/v2/enqueue", event, format="json").status_code == 202
    report = Report.objects.get()
    assert token not in str(report.payload)
    assert report.payload["routing_key"] == "[redacted]"


def test_token_in_path_is_not_stored(scenario):
    token = make("generic")
    body = {"service": "login", "code": "503", "note": f"sent to .../{token}"}
    response = APIClient().post(f"/api/v1/integrations/generic/{token}", body, format="json")
    assert response.status_code == 202
    assert token not in str(Report.objects.get().payload)


def test_bearer_copied_into_a_cxhub_body_is_not_stored(scenario):
    token = make("cxhub")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {"gatilhos": [{"servico": "login", "retorno": "503"}], "echo": token}
    assert client.post("/api/v1/triggers", body, format="json").status_code == 202
    assert token not in str(Report.objects.get().payload)


def test_django_request_warning_has_no_token_in_the_path(scenario, caplog):
    caplog.handler.addFilter(RedactFilter())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        APIClient().post("/api/v1/integrations/generic/not-a-real-token-xyz", {}, format="json")
    assert caplog.records, "django.request logs the 401"
    assert "not-a-real-token-xyz" not in caplog.text
    assert "/api/v1/integrations/generic/[redacted]" in caplog.text


def test_gunicorn_access_log_line_has_no_token():
    logger = RedactingLogger(
        SimpleNamespace(
            errorlog="-",
            loglevel="info",
            accesslog=None,
            syslog=False,
            logconfig=None,
            logconfig_dict={},
            logconfig_json=None,
            capture_output=False,
            disable_redirect_access_to_syslog=False,
            access_log_format="",
            user=0,
            group=0,
            env={},
        )
    )
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/api/v1/integrations/grafana/tok-abcdef123?x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/api/v1/integrations/grafana/tok-abcdef123",
        "QUERY_STRING": "token=tok-abcdef123",
    }
    response = SimpleNamespace(status="401 Unauthorized", sent=10, headers=[])
    request = SimpleNamespace(headers=[("AUTHORIZATION", "Bearer tok-abcdef123")])
    atoms = logger.atoms(response, request, environ, timedelta(seconds=0))
    assert "tok-abcdef123" not in str(atoms)
    assert atoms["r"] == "POST /api/v1/integrations/grafana/[redacted]?x=1 HTTP/1.1"
