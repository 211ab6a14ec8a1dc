"""The original scenario through the API, a real Celery worker + beat, and real HTTP sends."""

import json
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import ORIGINAL_PAYLOAD, make_scenario
from incidents.models import Incident, Integration
from notifications.models import Delivery
from tests.worker import running_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(transactional_db, tmp_path, http_sink):
    env = {
        "CXHUB_PUSH_PROVIDER": "webhook",
        "CXHUB_PUSH_WEBHOOK_URL": f"{http_sink.url}/push",
        "CXHUB_PUSH_WEBHOOK_SECRET": "e2e",
    }
    with running_worker(tmp_path, env) as worker:
        yield worker


def test_original_scenario_with_a_real_worker(worker, http_sink):
    apprise_base = http_sink.url.replace("http://", "json://")
    scenario = make_scenario(
        channel_kind="apprise",
        targets={slug: f"{apprise_base}/{slug}" for slug in ("n1", "n2", "coordenacao", "triage")},
    )
    integration = Integration(name="monitoring")
    token = integration.set_new_token()
    integration.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    for _ in range(12):
        response = client.post("/api/v1/triggers", ORIGINAL_PAYLOAD, format="json")
        assert response.status_code == 202

    def counted():
        incident = Incident.objects.first()
        return incident if incident and incident.occurrences == 12 else None

    incident = wait_for(counted, timeout=30, message="12 occurrences counted")

    def paths():
        return [r["path"] for r in http_sink.requests]

    wait_for(lambda: {"/push", "/n1"} <= set(paths()), timeout=30, message="push and N1 page sent")
    assert Incident.objects.count() == 1
    [push] = http_sink.json("/push")
    login_tokens = sorted(
        t for t, d in scenario["devices"].items() if d.customer.external_id in ("c1", "c2")
    )
    assert sorted(r["device"] for r in push["recipients"]) == login_tokens
    assert {r["message"] for r in push["recipients"]} == {
        "Infelizmente nosso app está indisponível, avisaremos quando voltar"
    }
    assert len(http_sink.json("/n1")) == 1
    assert "Analista N1" in http_sink.json("/n1")[0]["title"]

    # Time passes with no new trigger: the beat sweep must page N2, then Coordenação.
    Incident.objects.filter(pk=incident.pk).update(
        opened_at=F("opened_at") - timedelta(minutes=21), next_check_at=timezone.now()
    )
    wait_for(lambda: "/n2" in paths(), timeout=15, message="N2 paged by time")
    Incident.objects.filter(pk=incident.pk).update(
        opened_at=F("opened_at") - timedelta(minutes=40), next_check_at=timezone.now()
    )
    wait_for(lambda: "/coordenacao" in paths(), timeout=15, message="Coordenação paged by time")

    # A few more sweeps must not page anyone again.
    sweeps = worker.output().count("incidents.tasks.sweep")
    wait_for(
        lambda: worker.output().count("incidents.tasks.sweep") >= sweeps + 3,
        timeout=15,
        message="three more sweeps",
    )
    assert sorted(paths()) == ["/coordenacao", "/n1", "/n2", "/push"]
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 4
    kinds = list(incident.events.values_list("kind", flat=True))
    assert kinds.count("tier_paged") == 3
    assert kinds.count("push_queued") == 1
    # The signed webhook carried the gateway signature.
    push_request = next(r for r in http_sink.requests if r["path"] == "/push")
    assert push_request["headers"]["X-Cxhub-Signature"].startswith("sha256=")
    assert json.loads(push_request["body"])["reference"].startswith("push:")
