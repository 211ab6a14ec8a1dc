import json

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from conftest import ORIGINAL_PAYLOAD, post_original
from incidents import services
from incidents.models import Incident, Integration, Report, Trigger

URL = "/api/v1/triggers"


def post(client, body, **extra):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **extra)


def test_original_payload_is_accepted_with_trigger_ids_and_matches(scenario, ingest_client):
    response = post(ingest_client, ORIGINAL_PAYLOAD)
    assert response.status_code == 202
    body = response.json()
    ids = [t["id"] for t in body["triggers"]]
    assert [(t["service"], t["code"], t["matched"]) for t in body["triggers"]] == [
        ("login", "503", True),
        ("login", "404", True),
    ]
    assert set(Trigger.objects.values_list("id", flat=True)) == set(ids)
    assert Report.objects.get().payload == ORIGINAL_PAYLOAD
    # Nothing is counted inside the request: the worker does that.
    assert not Incident.objects.exists()


def test_codes_may_be_numbers_and_english_keys_work(scenario, ingest_client):
    response = post(ingest_client, {"triggers": [{"service": "Login", "code": 503}]})
    assert response.status_code == 202
    assert response.json()["triggers"][0] | {"id": 0} == {
        "id": 0,
        "service": "login",
        "code": "503",
        "matched": True,
    }


def test_unmatched_trigger_is_recorded_and_says_so(scenario, ingest_client):
    response = post(ingest_client, {"gatilhos": [{"servico": "boleto", "retorno": "500"}]})
    assert response.status_code == 202
    assert response.json()["triggers"][0]["matched"] is False


def test_processing_is_enqueued_on_commit(
    scenario, ingest_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post(ingest_client, ORIGINAL_PAYLOAD)
    assert len(callbacks) == 1


def test_counting_updates_the_integration_counters(scenario, ingest_client):
    post(ingest_client, ORIGINAL_PAYLOAD)
    integration = Integration.objects.get(name="monitoring")
    # Kept off the request: the row every request references is not written by it.
    assert integration.trigger_count == 0
    services.reports_drain()
    integration.refresh_from_db()
    assert integration.trigger_count == 2
    assert integration.last_received_at is not None


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": "Bearer"}],
)
def test_missing_or_invalid_token_is_401(db, headers):
    response = post(APIClient(), ORIGINAL_PAYLOAD, **headers)
    assert response.status_code == 401
    assert "Bearer" in response["WWW-Authenticate"]


def test_disabled_integration_is_403(ingest_client):
    Integration.objects.update(enabled=False)
    response = post(ingest_client, ORIGINAL_PAYLOAD)
    assert response.status_code == 403
    assert "disabled" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "detail"),
        ([1, 2], "gatilhos"),
        ({}, "gatilhos"),
        ({"gatilhos": []}, "gatilhos"),
        ({"gatilhos": [{"servico": "login"}]}, "gatilhos"),
        ({"gatilhos": [{"retorno": "503"}]}, "gatilhos"),
        ({"gatilhos": [{"servico": "login", "retorno": None}]}, "gatilhos"),
        ({"gatilhos": [{"servico": "login", "retorno": 1.5}]}, "gatilhos"),
        ({"gatilhos": [{"servico": "x" * 101, "retorno": "503"}]}, "gatilhos"),
        ({"gatilhos": [{"servico": "login", "retorno": "9" * 65}]}, "gatilhos"),
        ({"triggers": [{"service": "", "code": "1"}]}, "triggers"),
        ({"gatilhos": "login"}, "gatilhos"),
    ],
)
def test_malformed_body_is_400_naming_the_field(ingest_client, body, field):
    response = post(ingest_client, body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Trigger.objects.exists()


def test_error_names_the_nested_field(ingest_client):
    response = post(ingest_client, {"gatilhos": [{"servico": "login", "retorno": "1"}, {}]})
    assert response.status_code == 400
    assert response.json() == {
        "gatilhos": {
            "1": {"servico": ["This field is required."], "retorno": ["This field is required."]}
        }
    }


def test_too_many_triggers_is_400(ingest_client, settings):
    settings.CXHUB_MAX_TRIGGERS_PER_REQUEST = 3
    response = post(ingest_client, {"triggers": [{"service": "a", "code": "1"}] * 4})
    assert response.status_code == 400
    assert "triggers" in response.json()


def test_body_over_one_mebibyte_is_413(ingest_client):
    big = {"gatilhos": [{"servico": "login", "retorno": "503", "pad": "x" * (1024 * 1024)}]}
    response = post(ingest_client, big)
    assert response.status_code == 413
    assert not Trigger.objects.exists()


def test_staff_session_cannot_post_triggers(admin_client):
    assert post(admin_client, ORIGINAL_PAYLOAD).status_code in (401, 403)


# The read API


@pytest.fixture
def incident(scenario):
    post_original(2)
    return Incident.objects.get()


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_create(user=user, name='tests')[1]}")
    return client


def test_incident_list_and_detail_for_support_token(incident):
    staff = User.objects.create_user("support", is_staff=True)
    staff.groups.add(Group.objects.get(name="Support"))
    client = token_client(staff)
    listed = client.get("/api/v1/incidents/").json()
    assert listed["count"] == 1
    assert listed["results"][0]["occurrences"] == 2
    detail = client.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert detail["action"] == "0001"
    assert [event["kind"] for event in detail["timeline"]] == ["opened"]
    assert detail["deliveries"] == []


def test_incident_list_filters(incident, admin_client):
    def ids(query):
        response = admin_client.get(f"/api/v1/incidents/?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    today = incident.opened_at.astimezone().date().isoformat()
    assert ids("status=open") == [str(incident.pk)]
    assert ids("status=resolved") == []
    assert ids("service=login") == [str(incident.pk)]
    assert ids("service=pix") == []
    assert ids("action=0001") == [str(incident.pk)]
    assert ids("action=9999") == []
    assert ids(f"since={today}&until={today}") == [str(incident.pk)]
    assert ids("until=2000-01-01") == []


@pytest.mark.parametrize("query", ["status=bogus", "date=yesterday", "since=2026-13-01"])
def test_incident_list_rejects_bad_filters(incident, admin_client, query):
    response = admin_client.get(f"/api/v1/incidents/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_incident_api_needs_staff(incident, integration_token):
    assert APIClient().get("/api/v1/incidents/").status_code in (401, 403)
    customer_user = User.objects.create_user("someone")
    assert token_client(customer_user).get("/api/v1/incidents/").status_code == 403
    # Staff without the Support (or CX staff) role may not read incidents either.
    bare_staff = User.objects.create_user("bare", is_staff=True)
    assert token_client(bare_staff).get("/api/v1/incidents/").status_code == 403
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token}")
    assert client.get("/api/v1/incidents/").status_code in (401, 403)


def test_incident_list_rejects_nul_in_filters(incident, admin_client):
    response = admin_client.get("/api/v1/incidents/?service=lo%00gin")
    assert response.status_code == 400
    assert "service" in response.json()


def test_empty_date_filter_is_a_400_naming_it(scenario, admin_client):
    response = admin_client.get("/api/v1/incidents/?until=")
    assert response.status_code == 400
    assert "until" in response.json()
