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
