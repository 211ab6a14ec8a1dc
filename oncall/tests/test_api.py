"""The on-call API: Support reads who is on call and the final schedule; CX staff override."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from oncall import services
from oncall.models import Override
from oncall.tests.conftest import MONDAY

HOUR = timedelta(hours=1)


def client_of(user):
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def ready(schedule):
    services.schedule_shifts_refresh(schedule.pk)
    return schedule


def test_schedules_are_listed_with_their_id_and_name(ready, people):
    response = client_of(people["ana"]).get("/api/v1/schedules/")
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["id"] == str(ready.pk) and item["name"] == "N1"
    assert item["time_zone"] == "Europe/Berlin" and item["fed_by_ical"] is False


def test_who_is_on_call_at_an_iso_moment(ready, people):
    client = client_of(people["ana"])
    url = f"/api/v1/schedules/{ready.pk}/oncall"
    response = client.get(url, {"at": "2026-06-02T07:00:00Z"})
    assert response.status_code == 200
    assert response.json() == {
        "at": "2026-06-02T07:00:00Z",
        "oncall": [{"username": "bruno", "email": "bruno@bank.test"}],
    }
    assert client.get(url).json()["oncall"] == [{"username": "ana", "email": "ana@bank.test"}]


@pytest.mark.parametrize(
    ("value", "echoed"),
    [
        ("2026-06-02T09:00:00+02:00", "2026-06-02T09:00:00+02:00"),
        ("2026-06-02T04:00:00-03:00", "2026-06-02T04:00:00-03:00"),
        ("2026-06-02T12:30:00+05:30", "2026-06-02T12:30:00+05:30"),
        ("2026-06-02T07:00:00Z", "2026-06-02T07:00:00Z"),
        ("2026-06-02T07:00:00+00:00", "2026-06-02T07:00:00Z"),
        # Without an offset the moment is read in the server's zone (São Paulo) as before,
        # and echoed in UTC.
        ("2026-06-02T04:00:00", "2026-06-02T07:00:00Z"),
    ],
)
def test_the_moment_is_echoed_with_the_caller_s_offset(ready, people, value, echoed):
    client = client_of(people["ana"])
    body = client.get(f"/api/v1/schedules/{ready.pk}/oncall", {"at": value}).json()
    assert body == {"at": echoed, "oncall": [{"username": "bruno", "email": "bruno@bank.test"}]}


def test_now_is_echoed_in_utc(ready, people):
    body = client_of(people["ana"]).get(f"/api/v1/schedules/{ready.pk}/oncall").json()
    assert body["at"].endswith("Z")


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "2026-06-01T25:00"])
def test_a_bad_moment_is_a_400_naming_the_parameter(ready, people, value):
    response = client_of(people["ana"]).get(f"/api/v1/schedules/{ready.pk}/oncall", {"at": value})
    assert response.status_code == 400
    assert list(response.json()) == ["at"]


def test_shifts_over_a_range_with_their_gaps(ready, people):
    client = client_of(people["ana"])
    url = f"/api/v1/schedules/{ready.pk}/shifts"
    body = client.get(url, {"start": "2026-06-01T06:00:00Z", "end": "2026-06-03T06:00:00Z"}).json()
    assert [(s["username"], s["source"]) for s in body["shifts"]] == [
        ("ana", "layer"),
        ("bruno", "layer"),
    ]
    assert body["gaps"] == []
    assert client.get(url, {"start": "2026-06-03T00:00Z", "end": "2026-06-01T00:00Z"}).json() == {
        "end": ["The end must be after the start."]
    }
    far = client.get(url, {"start": "2026-06-01T00:00Z", "end": "2027-12-01T00:00Z"})
    assert far.status_code == 400 and list(far.json()) == ["end"]


def test_cx_staff_create_and_delete_an_override_and_support_may_not(ready, people):
    url = f"/api/v1/schedules/{ready.pk}/overrides"
    body = {
        "username": "carla",
        "start": (MONDAY + HOUR).isoformat(),
        "end": (MONDAY + 3 * HOUR).isoformat(),
    }
    assert client_of(people["ana"]).post(url, body, format="json").status_code == 403
    cx = client_of(people["cx"])
    created = cx.post(url, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["username"] == "carla" and created.json()["created_by"] == "cx"
    oncall = cx.get(f"/api/v1/schedules/{ready.pk}/oncall", {"at": (MONDAY + 2 * HOUR).isoformat()})
    assert oncall.json()["oncall"][0]["username"] == "carla"
    assert client_of(people["ana"]).get(url).json()[0]["username"] == "carla"
    one = f"{url}/{created.json()['id']}"
    assert client_of(people["ana"]).delete(one).status_code == 403
    assert cx.delete(one).status_code == 204
    assert not Override.objects.exists()


def test_a_bad_override_names_its_field(ready, people):
    url = f"/api/v1/schedules/{ready.pk}/overrides"
    cx = client_of(people["cx"])
    nobody = cx.post(
        url,
        {"username": "zed", "start": "2026-06-01T10:00Z", "end": "2026-06-01T11:00Z"},
        format="json",
    )
    assert nobody.status_code == 400 and list(nobody.json()) == ["username"]
    backwards = cx.post(
        url,
        {"username": "ana", "start": "2026-06-01T10:00Z", "end": "2026-06-01T09:00Z"},
        format="json",
    )
    assert backwards.status_code == 400 and list(backwards.json()) == ["end"]


def test_the_schedule_api_is_in_the_openapi_schema(people):
    schema = client_of(people["ana"]).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "/api/v1/schedules/" in paths
    assert "/api/v1/schedules/{id}/oncall" in paths
    oncall = schema["components"]["schemas"]["Oncall"]["properties"]["at"]
    assert (oncall["type"], oncall["format"]) == ("string", "date-time")
    assert "offset" in oncall["description"]
    assert "post" in paths["/api/v1/schedules/{id}/overrides"]
    assert "delete" in paths["/api/v1/schedules/{id}/overrides/{override_id}"]
