"""Probes, metrics, the 503 for a lost database, JSON logs."""

import json
import logging
from unittest import mock

import pytest
from django.db import OperationalError
from kombu import Connection

from conftest import ORIGINAL_PAYLOAD
from cxhub.celery import app as celery_app
from cxhub.logs import JsonFormatter
from tests.processes import free_port


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_and_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": True, "broker": True}


@pytest.mark.django_db
def test_readyz_answers_503_when_the_broker_is_unreachable(client):
    nothing_listens = Connection(f"redis://127.0.0.1:{free_port()}/0")
    with mock.patch.object(celery_app, "connection_for_write", return_value=nothing_listens):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "broker": False}
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_readyz_answers_503_when_the_database_is_unreachable(client):
    with mock.patch("cxhub.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] is False


@pytest.mark.django_db
def test_lost_database_answers_503_with_retry_after(ingest_client):
    with mock.patch(
        "incidents.services.report_ingest", side_effect=OperationalError("connection refused")
    ):
        response = ingest_client.post("/api/v1/triggers", ORIGINAL_PAYLOAD, format="json")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "database is unavailable" in response.json()["detail"]


@pytest.mark.django_db
def test_metrics_expose_triggers_incidents_deliveries_and_lag(
    client, ingest_client, scenario, eager_celery, django_capture_on_commit_callbacks
):
    for _ in range(12):
        with django_capture_on_commit_callbacks(execute=True):
            response = ingest_client.post("/api/v1/triggers", ORIGINAL_PAYLOAD, format="json")
        assert response.status_code == 202
    text = client.get("/metrics").content.decode()
    assert 'cxhub_triggers_total{integration="monitoring"} 24.0' in text
    assert 'cxhub_incidents{status="open"} 1.0' in text
    # The outage push (locmem provider) and the tier 1 page (locmem channel).
    assert 'cxhub_deliveries{channel="locmem",status="sent"} 2.0' in text
    assert 'cxhub_queue_lag_seconds{queue="reports"} 0.0' in text
    # django-prometheus' own request metrics are there too.
    assert "django_http_requests_total_by_method_total" in text


def test_json_log_lines_are_one_object_each():
    record = logging.LogRecord("cxhub.x", logging.WARNING, __file__, 1, "sent %s", ("page",), None)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "cxhub.x"
    assert entry["message"] == "sent page"
    assert "\n" not in line
