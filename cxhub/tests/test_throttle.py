"""Every way of presenting a credential shares one failed-authentication limit."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from cxhub.tests.test_deploy import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parent.parent.parent
PD_EVENT = {
    "routing_key": "wrong-key",
    "event_action": "trigger",
    "payload": {"summary": "s", "source": "login", "severity": "critical"},
}


@pytest.fixture
def limit(settings):
    settings.CXHUB_AUTH_FAILURES_PER_MINUTE = 3


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=token)
    return client


FAILURES = {
    "bearer": lambda c: bearer("Bearer wrong").post("/api/v1/triggers", {}, format="json"),
    "path": lambda c: APIClient().post("/api/v1/integrations/generic/wrong", {}, format="json"),
    "integration bearer": lambda c: bearer("Bearer wrong").post(
        "/api/v1/integrations/grafana/", {}, format="json"
    ),
    "routing_key": lambda c: APIClient().post("/v2/enqueue", PD_EVENT, format="json"),
    "api key": lambda c: bearer("Token cxk_wrong").get("/api/v1/incidents/"),
    "metrics": lambda c: bearer("Bearer wrong").get("/metrics"),
    "admin login": lambda c: c.post(
        "/admin/login/", {"username": "nobody", "password": "wrong-password"}
    ),
}


@pytest.mark.parametrize("path", sorted(FAILURES))
def test_each_path_counts_and_then_is_refused(scenario, limit, client, settings, path):
    settings.CXHUB_METRICS_TOKEN = "right"
    for _ in range(3):
        assert FAILURES[path](client).status_code in (200, 400, 401)
    # The fourth try, by any path, meets the shared limit.
    refused = bearer("Bearer wrong").post("/api/v1/triggers", {}, format="json")
    assert refused.status_code == 429
    assert "Too many failed authentications" in refused.json()["detail"]


def test_path_and_routing_key_answer_429_with_retry_after(scenario, limit):
    for _ in range(3):
        bearer("Token cxk_wrong").get("/api/v1/incidents/")
    response = APIClient().post("/api/v1/integrations/generic/wrong", {}, format="json")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert APIClient().post("/v2/enqueue", PD_EVENT, format="json").status_code == 429
    assert bearer("Token cxk_wrong").get("/api/v1/incidents/").status_code == 429


def test_admin_login_locks_out_after_five_wrong_passwords(db, client):
    User.objects.create_user("carla", password="the-right-password-1", is_staff=True)
    for _ in range(5):
        response = client.post(
            "/admin/login/", {"username": "carla", "password": "wrong"}, REMOTE_ADDR="10.0.0.9"
        )
    assert response.status_code == 429
    response = client.post(
        "/admin/login/",
        {"username": "carla", "password": "the-right-password-1"},
        REMOTE_ADDR="10.0.0.9",
    )
    # Locked out even with the right password, and told why and for how long.
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins (5)" in page and "Try again in" in page
    # Another address is not locked out of the same account.
    response = client.post(
        "/admin/login/",
        {"username": "carla", "password": "the-right-password-1"},
        REMOTE_ADDR="10.0.0.10",
    )
    assert response.status_code == 302


def test_metrics_take_a_bearer_token_or_basic_auth(db, client, settings):
    settings.CXHUB_METRICS_TOKEN = "scrape-token"
    settings.CXHUB_METRICS_BASIC_AUTH = "prom:scrape-password"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token")
    assert ok.status_code == 200 and b"cxhub_incidents" in ok.content
    basic = base64.b64encode(b"prom:scrape-password").decode()
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {basic}").status_code == 200


def test_metrics_closed_to_anonymous_when_not_open(db, client, settings):
    settings.CXHUB_METRICS_OPEN = False
    assert client.get("/metrics").status_code == 401


def production_value(expression, **env):
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cxhub.settings",
            **{k: v for k, v in PRODUCTION_ENV.items() if "SECURE" not in k},
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_defaults_are_secure_cookies_hsts_and_closed_metrics():
    expression = (
        "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.SECURE_HSTS_SECONDS, settings.CXHUB_METRICS_OPEN"
    )
    assert production_value(expression) == "True True 31536000 False"
    # Open metrics in production need a credential anyway (else startup stops).
    opened = production_value(
        "settings.CXHUB_METRICS_OPEN", CXHUB_METRICS_OPEN="true", CXHUB_METRICS_TOKEN="t"
    )
    assert opened == "True"
