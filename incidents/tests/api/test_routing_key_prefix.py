"""PagerDuty's routing_key is found in a small prefix: no body is parsed before it is known."""

import json

import pytest
from django.test import Client

from incidents.tests.senders import make_integration

PADDING = "x" * (3 * 1024 * 1024)


@pytest.fixture
def parsed(monkeypatch):
    """Count full JSON parses of request bodies."""
    from cxhub import api

    calls = []
    real = api.decode_json

    def counting(body):
        calls.append(len(body))
        return real(body)

    monkeypatch.setattr(api, "decode_json", counting)
    return calls


def post(path, body: dict):
    return Client().post(path, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("path", ["/v2/enqueue", "/v2/change/enqueue"])
def test_an_unknown_routing_key_is_refused_without_parsing_the_body(db, parsed, path):
    body = {"routing_key": "not-a-token-" + "a" * 20, "payload": {"summary": PADDING}}
    response = post(path, body)
    assert response.status_code == 400
    assert parsed == []


@pytest.mark.parametrize("path", ["/v2/enqueue", "/v2/change/enqueue"])
def test_an_address_over_the_limit_is_refused_before_reading(db, parsed, settings, path):
    settings.CXHUB_AUTH_FAILURES_PER_MINUTE = 2
    for _ in range(2):
        post(path, {"routing_key": "wrong-key-" + "b" * 20, "payload": {}})
    response = post(path, {"routing_key": "wrong-key-" + "c" * 20, "payload": {"s": PADDING}})
    assert response.status_code == 429
    assert parsed == []


def test_a_known_routing_key_still_gets_its_event_parsed(scenario, parsed):
    _, token = make_integration("pagerduty", name="pd")
    body = {
        "routing_key": token,
        "event_action": "trigger",
        "payload": {
            "summary": "login 503",
            "source": "login",
            "class": "503",
            "severity": "critical",
        },
    }
    assert post("/v2/enqueue", body).status_code == 202
    assert len(parsed) == 1


def test_a_routing_key_beyond_the_prefix_is_refused_with_why(db, parsed):
    _, token = make_integration("pagerduty", name="pd")
    body = {"payload": {"summary": PADDING}, "routing_key": token}
    response = post("/v2/enqueue", body)
    assert response.status_code == 400
    assert "first" in response.json()["message"] + json.dumps(response.json())
    assert parsed == []
