"""Logs of a whole incident never carry customer ids or device tokens."""

import logging

import pytest

from conftest import ORIGINAL_PAYLOAD

pytestmark = pytest.mark.django_db


def test_incident_logs_name_no_customer_or_device(
    scenario,
    ingest_client,
    settings,
    caplog,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    settings.CXHUB_PUSH_PROVIDER = "console"
    with caplog.at_level(logging.DEBUG):
        for _ in range(10):
            with django_capture_on_commit_callbacks(execute=True):
                response = ingest_client.post("/api/v1/triggers", ORIGINAL_PAYLOAD, format="json")
            assert response.status_code == 202
    text = caplog.text
    assert "PUSH push:" in text  # the console provider did log the push
    for token, device in scenario["devices"].items():
        assert token not in text and token[-6:] not in text
        assert f"'{device.customer.external_id}'" not in text
        assert f" {device.customer.external_id} " not in text


def test_a_fallback_sms_logs_no_number_or_address(
    scenario, ingest_client, settings, caplog, eager_celery, django_capture_on_commit_callbacks
):
    from notifications.models import Customer

    settings.CXHUB_PUSH_PROVIDER = "console"
    scenario["action"].push_fallback = "sms"
    scenario["action"].save()
    customer = Customer.objects.create(
        external_id="no-app-7", phone="+5511912345678", phone_consent=True, email="x@y.test"
    )
    customer.services.add(scenario["login"])
    with caplog.at_level(logging.DEBUG):
        for _ in range(5):
            with django_capture_on_commit_callbacks(execute=True):
                ingest_client.post("/api/v1/triggers", ORIGINAL_PAYLOAD, format="json")
    text = caplog.text
    assert "SMS fallback:" in text and "to 1 customer(s)" in text
    assert "12345678" not in text and "x@y.test" not in text and "no-app-7" not in text
