"""Hostile requests get a clear 4xx, and nothing already accepted is lost."""

import json

import pytest
from django.test import override_settings

from conftest import ORIGINAL_PAYLOAD
from incidents import services
from incidents.models import Incident, Report, Trigger
from notifications import providers
from notifications.channels import locmem

URL = "/api/v1/triggers"
pytestmark = pytest.mark.django_db


@pytest.fixture
def accepted(scenario, ingest_client):
    """One report accepted before the attack; it must survive it."""
    response = ingest_client.post(URL, ORIGINAL_PAYLOAD, format="json")
    assert response.status_code == 202
    return response.json()["report"]


def still_intact(accepted, ingest_client):
    assert Report.objects.filter(id=accepted).exists()
    assert Trigger.objects.filter(report_id=accepted).count() == 2
    response = ingest_client.post(URL, ORIGINAL_PAYLOAD, format="json")
    assert response.status_code == 202


def raw(client, body: bytes, content_type="application/json", **extra):
    return client.generic("POST", URL, body, content_type=content_type, **extra)


def test_oversize_body_is_413(accepted, ingest_client):
    response = raw(ingest_client, b'{"gatilhos": [' + b" " * (1024 * 1024) + b"]}")
    assert response.status_code == 413
    still_intact(accepted, ingest_client)


@pytest.mark.parametrize("depth", [33, 100_000])
def test_deeply_nested_json_is_400(accepted, ingest_client, depth):
    body = b'{"gatilhos": ' + b"[" * depth + b"]" * depth + b"}"
    response = raw(ingest_client, body)
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]
    still_intact(accepted, ingest_client)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
def test_other_content_types_are_415(accepted, ingest_client, content_type):
    response = raw(ingest_client, json.dumps(ORIGINAL_PAYLOAD).encode(), content_type)
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]
    still_intact(accepted, ingest_client)


@pytest.mark.parametrize(
    "body", [b'{"gatilhos": [{"servico": "\xff\xfe", "retorno": "503"}]}', b"\xc3\x28", b"\x00"]
)
def test_invalid_utf8_or_garbage_is_400(accepted, ingest_client, body):
    response = raw(ingest_client, body)
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    still_intact(accepted, ingest_client)


@pytest.mark.parametrize(
    "body",
    [
        b'{"gatilhos": [{"servico": "lo\\u0000gin", "retorno": "503"}]}',
        b'{"gatilhos": [{"servico": "login", "retorno": "503"}], "x\\u0000": 1}',
        b'{"gatilhos": [{"servico": "\\udc80", "retorno": "503"}]}',
    ],
)
def test_characters_the_database_cannot_store_are_400(accepted, ingest_client, body):
    # Found by the schema fuzzer: PostgreSQL refuses NUL in text and jsonb (a 500 before).
    response = raw(ingest_client, body)
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
    still_intact(accepted, ingest_client)


def test_more_triggers_than_the_documented_maximum_is_400(accepted, ingest_client, settings):
    limit = settings.CXHUB_MAX_TRIGGERS_PER_REQUEST
    body = {"gatilhos": [{"servico": "login", "retorno": "503"}] * (limit + 1)}
    response = ingest_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert "gatilhos" in response.json()
    at_limit = {"gatilhos": [{"servico": "login", "retorno": "503"}] * limit}
    assert ingest_client.post(URL, at_limit, format="json").status_code == 202
    still_intact(accepted, ingest_client)


INJECTIONS = ["{{ settings.SECRET_KEY }}", "{% debug %}", "<script>alert(1)</script>", "${7*7}"]


@pytest.mark.parametrize("text", INJECTIONS)
def test_template_syntax_in_payload_fields_is_stored_and_shown_verbatim(
    scenario, ingest_client, admin_client, text, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = ingest_client.post(
            URL, {"gatilhos": [{"servico": text, "retorno": text[:60]}]}, format="json"
        )
    assert response.status_code == 202
    trigger = Trigger.objects.get()
    assert (trigger.service, trigger.code) == (text.lower(), text[:60])
    # The triage page carries the text literally: nothing evaluated it.
    [page] = locmem.outbox
    assert text.lower() in page["title"]
    assert "django-insecure" not in page["body"] and "49" not in page["title"]
    # The admin escapes it.
    html = admin_client.get("/admin/incidents/trigger/").content.decode()
    assert "<script>alert(1)</script>" not in html
    if "<" in text:
        assert "&lt;script&gt;" in html


def test_template_syntax_in_message_templates_is_sent_verbatim(scenario, ingest_client):
    action = scenario["action"]
    action.push_message = "{{ settings.SECRET_KEY }} {% now 'Y' %} <b>"
    action.save()
    for _ in range(5):
        report = ingest_client.post(URL, ORIGINAL_PAYLOAD, format="json").json()["report"]
        services.report_process(report)
    incident = Incident.objects.get()
    from notifications.models import Delivery
    from notifications.services import delivery_send

    for delivery in Delivery.objects.filter(incident=incident):
        delivery_send(delivery.pk)
    [push] = providers.outbox
    assert push["body"] == "{{ settings.SECRET_KEY }} {% now 'Y' %} <b>"


@override_settings(CXHUB_AUTH_FAILURES_PER_MINUTE=5)
def test_token_brute_force_is_rate_limited_per_client_address(accepted, client, ingest_client):
    for n in range(5):
        response = client.post(
            URL,
            ORIGINAL_PAYLOAD,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer guess-{n}",
        )
        assert response.status_code == 401
    response = client.post(
        URL, ORIGINAL_PAYLOAD, content_type="application/json", HTTP_AUTHORIZATION="Bearer guess"
    )
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    # The limit holds for that address, whatever token it shows now ...
    assert ingest_client.post(URL, ORIGINAL_PAYLOAD, format="json").status_code == 429
    # ... and other senders are not affected.
    other = ingest_client.post(URL, ORIGINAL_PAYLOAD, format="json", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 202
    assert Report.objects.filter(id=accepted).exists()
    assert Report.objects.count() == 2


def test_bad_authorization_headers_are_401(db, client):
    for header in ["Bearer", "Bearer a b", "Bearer \u00ff", "bearer " + "x" * 5000]:
        response = client.post(
            URL, ORIGINAL_PAYLOAD, content_type="application/json", HTTP_AUTHORIZATION=header
        )
        assert response.status_code == 401, header
