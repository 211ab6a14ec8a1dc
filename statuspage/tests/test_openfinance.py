"""Open Finance Brasil's discovery feed: shapes per the specification, and what cxhub knows."""

from datetime import UTC, timedelta

import jsonschema
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actions.models import Service
from incidents import services as incidents
from incidents.models import MaintenanceWindow
from notifications.tests.helpers import post
from statuspage.models import OpenFinanceEndpoint
from statuspage.openfinance import iso_duration
from statuspage.tests.conftest import snapshots_clear
from statuspage.tests.discovery_schemas import ERROR, SCHEMAS

BASE = "https://api.banco.example"
ACCOUNTS = ["/open-banking/accounts/v2/accounts", "/open-banking/accounts/v2/accounts/{accountId}"]
PIX = "/open-banking/payments/v4/pix/payments"


@pytest.fixture
def feed(visible, integration, settings):
    """Login carries the accounts API; a second service carries PIX payments."""
    settings.CXHUB_OPEN_FINANCE_BASE_URL = BASE
    visible["integration"] = integration
    for path in ACCOUNTS:
        OpenFinanceEndpoint.objects.create(service=visible["login"], path=path)
    pix = Service.objects.create(slug="pix-payments", name="Pix")
    OpenFinanceEndpoint.objects.create(service=pix, path=PIX)
    visible["pix"] = pix
    return visible


def get(client, version, feed_name, query="", status=200, **headers):
    response = client.get(f"/open-banking/discovery/v{version}/{feed_name}{query}", **headers)
    assert response.status_code == status, response.content
    if status == 200:
        assert response["Content-Type"] == "application/json; charset=utf-8"
        body = response.json()
        jsonschema.validate(body, SCHEMAS[(version, feed_name)])
        assert body["meta"]["requestDateTime"].endswith("Z")
        return body
    return response


def statuses(client):
    snapshots_clear()
    first = get(client, 1, "status")["data"]["status"]
    assert get(client, 2, "status")["data"]["status"] == first
    return first


def test_nothing_wrong_is_one_ok_and_no_outage(feed, client):
    assert statuses(client) == [
        {"code": "OK", "explanation": "Todas as APIs estão funcionando normalmente."}
    ]
    for version in (1, 2):
        body = get(client, version, "outages")
        assert body["data"] == []
        assert body["meta"]["totalRecords"] == 0 and body["meta"]["totalPages"] == 1
        assert body["links"] == {
            "self": f"{BASE}/open-banking/discovery/v{version}/outages?page=1&page-size=25"
        }


def test_a_customer_visible_incident_fails_its_services_endpoints_until_resolved(feed, client):
    post(feed["integration"], times=4)  # below the push threshold: not customer-visible
    assert statuses(client)[0]["code"] == "OK"
    incident = post(feed["integration"], times=1)
    [status] = statuses(client)
    opened = incident.opened_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    # Every mapped endpoint of the accounts API is down: the API is unavailable.
    assert status == {
        "code": "UNAVAILABLE",
        "explanation": "APIs indisponíveis: accounts. Estamos trabalhando para normalizar.",
        "detectionTime": opened,
        "updateTime": opened,
        "unavailableEndpoints": [f"{BASE}{path}" for path in sorted(ACCOUNTS)],
    }
    # One accounts endpoint login does not carry: only some of the API's endpoints fail.
    OpenFinanceEndpoint.objects.create(
        service=feed["pix"], path="/open-banking/accounts/v2/accounts/{accountId}/balances"
    )
    assert statuses(client)[0]["code"] == "PARTIAL_FAILURE"
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    assert statuses(client)[0]["code"] == "OK"


def window(service, *, start, hours=2, visible=True, reason="Atualização do API Gateway"):
    return MaintenanceWindow.objects.create(
        service=service,
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        reason=reason,
        status_visible=visible,
    )


def test_maintenance_ahead_is_an_outage_and_a_scheduled_outage_while_it_runs(feed, client):
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    window(feed["login"], start=start)
    window(feed["login"], start=start + timedelta(days=1), visible=False, reason="interno")
    expected = {
        "outageTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration": "PT2H",
        "isPartial": True,  # PIX stays up
        "explanation": "Atualização do API Gateway",
        "unavailableEndpoints": [f"{BASE}{path}" for path in sorted(ACCOUNTS)],
    }
    assert get(client, 1, "outages")["data"] == [expected]
    assert get(client, 2, "outages")["data"] == [expected]
    assert statuses(client)[0]["code"] == "OK"
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        [status] = statuses(client)
        assert status["code"] == "SCHEDULED_OUTAGE"
        ends = (start + timedelta(hours=2)).astimezone(UTC)
        assert status["expectedResolutionTime"] == ends.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert status["unavailableEndpoints"] == expected["unavailableEndpoints"]
        assert get(client, 2, "outages")["data"] == [expected]  # still announced while it runs
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        snapshots_clear()
        assert get(client, 2, "outages")["data"] == []


def test_an_incident_outranks_a_running_maintenance(feed, client):
    window(feed["pix"], start=timezone.now() - timedelta(minutes=5))
    post(feed["integration"], times=5)
    [status] = statuses(client)
    assert status["code"] == "UNAVAILABLE"
    assert f"{BASE}{PIX}" in status["unavailableEndpoints"]
    assert "expectedResolutionTime" in status


def test_outages_are_paged_with_links_per_the_specification(feed, client):
    now = timezone.now()
    for day in range(1, 4):
        window(feed["login"], start=now + timedelta(days=day))
    first = get(client, 2, "outages", "?page-size=2")
    base = f"{BASE}/open-banking/discovery/v2/outages"
    assert len(first["data"]) == 2
    assert first["meta"] | {"requestDateTime": None} == {
        "totalRecords": 3,
        "totalPages": 2,
        "requestDateTime": None,
    }
    assert first["links"] == {
        "self": f"{base}?page=1&page-size=2",
        "next": f"{base}?page=2&page-size=2",
        "last": f"{base}?page=2&page-size=2",
    }
    second = get(client, 2, "outages", "?page=2&page-size=2")
    assert len(second["data"]) == 1
    assert set(second["links"]) == {"self", "first", "prev"}


@pytest.mark.parametrize("query", ["?page=0", "?page-size=1001", "?page-size=x", "?page=-1"])
def test_bad_paging_is_refused_with_the_specifications_error(feed, client, query):
    response = get(client, 1, "status", query, status=400)
    jsonschema.validate(response.json(), ERROR)


def test_only_get_and_head(feed, client):
    for method in (client.post, client.put, client.delete, client.options):
        response = method("/open-banking/discovery/v1/status")
        assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
        jsonschema.validate(response.json(), ERROR)
    assert client.get("/open-banking/discovery/v3/status").status_code == 404


def test_the_feed_is_served_from_a_snapshot_with_a_weak_etag(feed, client, settings):
    settings.CXHUB_STATUS_CACHE_SECONDS = 30
    first = client.get("/open-banking/discovery/v2/status")
    etag = first["ETag"]
    assert etag.startswith('W/"') and first["Cache-Control"] == "public, max-age=30"
    post(feed["integration"], times=5)
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/open-banking/discovery/v2/status", HTTP_IF_NONE_MATCH=etag)
        body = client.get("/open-banking/discovery/v2/status").json()
    assert len(queries) == 0
    assert again.status_code == 304 and again.content == b""
    assert body["data"]["status"][0]["code"] == "OK"  # the incident shows at the next rebuild
    snapshots_clear()
    changed = client.get("/open-banking/discovery/v2/status", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_iso_durations():
    assert iso_duration(timedelta(hours=2, minutes=30)) == "PT2H30M"
    assert iso_duration(timedelta(days=1, hours=2)) == "P1DT2H"
    assert iso_duration(timedelta(seconds=45)) == "PT45S"
    assert iso_duration(timedelta(days=2)) == "P2D"
    assert iso_duration(timedelta(0)) == "PT0S"


@pytest.mark.parametrize("feed_name", ["status", "outages"])
def test_head_answers_the_headers_of_get_without_a_body(feed, client, feed_name):
    url = f"/open-banking/discovery/v2/{feed_name}"
    got = client.get(url)
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head["ETag"] == got["ETag"] and head["Content-Type"] == got["Content-Type"]
    assert int(head["Content-Length"]) == len(got.content)
    assert client.head(url, HTTP_IF_NONE_MATCH=got["ETag"]).status_code == 304


def test_the_feeds_are_in_the_openapi_schema(db, client):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    discovery = paths["/open-banking/discovery/v{version}/{feed}"]["get"]
    shapes = discovery["responses"]["200"]["content"]["application/json"]["schema"]["oneOf"]
    assert [s["description"].split()[0] for s in shapes] == [
        "ResponseDiscoveryStatusList",
        "ResponseOutageList",
    ]
    assert discovery["security"] == [{}]  # anonymous
    atom = paths["/status/feed.atom"]["get"]["responses"]["200"]["content"]
    assert "application/atom+xml" in atom
    assert "/api/v1/status/history" in paths
