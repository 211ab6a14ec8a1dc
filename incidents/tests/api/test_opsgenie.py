"""The Opsgenie Alert API: create, close and acknowledge by alias/id/tiny, updates, GenieKey."""

import json

import pytest
from rest_framework.test import APIClient

from actions.models import TriggerRule
from incidents.models import AlertInstance, Incident, Integration, Report
from incidents.tests.senders import make_integration, process_all


@pytest.fixture
def og(db):
    return make_integration("opsgenie", name="opsgenie")


@pytest.fixture
def login_down(scenario):
    TriggerRule.objects.create(
        action=scenario["action"], service=scenario["login"], code="LoginDown"
    )
    return scenario


def call(token, path, body=None, *, method="post", scheme="GenieKey"):
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    data = json.dumps(body) if body is not None else None
    kwargs = {"content_type": "application/json"} if data is not None else {}
    return getattr(client, method)(path, data=data, **kwargs)


# What Alertmanager's opsgenie_configs send: the group's common labels in details.
CREATE = {
    "alias": "6f1c2e0a9b",
    "message": "[FIRING:2] LoginDown login",
    "description": "login answers 503 on 2 pods",
    "details": {"alertname": "LoginDown", "service": "login", "severity": "critical"},
    "source": "http://alertmanager:9093",
    "tags": ["login"],
    "priority": "P1",
}


def test_create_answers_like_opsgenie_and_opens_an_incident(login_down, og):
    integration, token = og
    response = call(token, "/v2/alerts", CREATE)
    assert response.status_code == 202
    body = response.json()
    assert body["result"] == "Request will be processed"
    assert set(body) == {"result", "took", "requestId"}
    process_all()
    incident = Incident.objects.get()
    assert incident.occurrences == 1
    alert = AlertInstance.objects.get()
    assert (alert.service, alert.code, alert.fingerprint) == ("login", "LoginDown", "6f1c2e0a9b")
    assert alert.summary == CREATE["message"]
    # The same alias again (Alertmanager re-sends on repeat_interval) is the same alert.
    assert call(token, "/v2/alerts/", CREATE).status_code == 202
    process_all()
    incident.refresh_from_db()
    assert incident.occurrences == 1
    assert Report.objects.filter(integration=integration).count() == 2


def test_close_by_alias_resolves_what_the_alias_opened(login_down, og):
    _, token = og
    call(token, "/v2/alerts", CREATE)
    process_all()
    response = call(token, "/v2/alerts/6f1c2e0a9b/close?identifierType=alias", {"note": "ok"})
    assert response.status_code == 202
    process_all()
    incident = Incident.objects.get()
    assert incident.status == "resolved"
    assert incident.resolved_by == "opsgenie"


def test_acknowledge_by_tiny_id_and_close_by_id(login_down, og):
    _, token = og
    call(token, "/v2/alerts", CREATE)
    process_all()
    tiny = AlertInstance.objects.get().pk
    response = call(token, f"/v2/alerts/{tiny}/acknowledge?identifierType=tiny", {})
    assert response.status_code == 202
    process_all()
    incident = Incident.objects.get()
    assert incident.status == "acknowledged"
    assert incident.acknowledged_by == "opsgenie"
    # identifierType defaults to id, and the id of an alert with an alias is the alias.
    assert call(token, "/v2/alerts/6f1c2e0a9b/close").status_code == 202
    process_all()
    incident.refresh_from_db()
    assert incident.status == "resolved"


def test_a_create_without_alias_is_closed_by_its_request_id(login_down, og):
    _, token = og
    body = {k: v for k, v in CREATE.items() if k != "alias"}
    request_id = call(token, "/v2/alerts", body).json()["requestId"]
    process_all()
    assert AlertInstance.objects.get().fingerprint == request_id
    call(token, f"/v2/alerts/{request_id}/close?identifierType=id", {})
    process_all()
    assert Incident.objects.get().status == "resolved"


def test_message_and_description_updates_go_on_the_timeline(login_down, og):
    _, token = og
    call(token, "/v2/alerts", CREATE)
    process_all()
    path = "/v2/alerts/6f1c2e0a9b/{}?identifierType=alias"
    assert call(token, path.format("message"), {"message": "[FIRING:3] LoginDown"}, method="put")
    response = call(token, path.format("description"), {"description": "3 pods now"}, method="put")
    assert response.status_code == 202
    details = list(
        Incident.objects.get().events.filter(kind="alert_updated").values_list("detail", flat=True)
    )
    assert details == [
        "Message of [6f1c2e0a9b]: [FIRING:3] LoginDown",
        "Description of [6f1c2e0a9b]: 3 pods now",
    ]


def test_errors_have_opsgenie_shape_and_name_the_field(login_down, og):
    integration, token = og
    response = call(token, "/v2/alerts", {"alias": "x"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"message": "Message can not be empty."}
    assert {"message", "took", "requestId"} <= set(response.json())
    response = call(token, "/v2/alerts", {"message": "m", "details": {"alertname": "LoginDown"}})
    assert response.status_code == 422
    assert "service" in json.dumps(response.json()["errors"])
    integration.refresh_from_db()
    assert integration.last_error.endswith(
        "422 Request body is not processable. Please check the errors."
    )
    response = call(token, "/v2/alerts/1/close?identifierType=serial")
    assert response.status_code == 422
    assert call(token, "/v2/alerts/999/close?identifierType=tiny").status_code == 404
    assert not Report.objects.exists()


def test_genie_key_is_required_and_of_an_enabled_opsgenie_integration(og, db):
    integration, token = og
    assert call(None, "/v2/alerts", CREATE).status_code == 401
    assert call(token, "/v2/alerts", CREATE, scheme="Bearer").status_code == 401
    assert call("nope", "/v2/alerts", CREATE).status_code == 401
    _, other = make_integration("alertmanager")
    assert call(other, "/v2/alerts", CREATE).status_code == 403
    Integration.objects.filter(pk=integration.pk).update(enabled=False)
    response = call(token, "/v2/alerts", CREATE)
    assert response.status_code == 403
    assert response.json()["message"] == "This integration is disabled."
    assert not Report.objects.exists()


def test_mapping_changes_where_service_and_code_come_from(login_down, og):
    integration, token = og
    integration.mapping = {"service": "details.job", "code": "details.code"}
    integration.save()
    TriggerRule.objects.create(action=login_down["action"], service=login_down["login"], code="500")
    call(token, "/v2/alerts", {"message": "m", "details": {"job": "Login", "code": "500"}})
    process_all()
    assert AlertInstance.objects.get().service == "login"
    assert Incident.objects.get().occurrences == 1


def test_admin_shows_the_root_url_and_the_genie_key_once(admin_client, db, settings):
    response = admin_client.post(
        "/admin/incidents/integration/add/",
        {"name": "og", "kind": "opsgenie", "enabled": "on", "rate_limit": 0, "mapping": "{}"},
        follow=True,
    )
    shown = " ".join(str(m) for m in response.context["messages"])
    assert f"(api_url {settings.CXHUB_BASE_URL}/, sent as 'Authorization: GenieKey " in shown
    assert "/api/v1/integrations/opsgenie/" not in shown
