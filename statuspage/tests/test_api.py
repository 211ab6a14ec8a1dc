from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from incidents import services as incidents
from notifications.tests.helpers import post
from statuspage.api import snapshots

EN_BANNER = (
    "Login no app is unavailable at the moment. We are working on it and will let you "
    "know when it is back."
)


def test_status_shows_login_impacted_while_open_and_not_after_resolve(visible, integration):
    client = APIClient()
    assert client.get("/api/v1/status?locale=en").json() == {
        "impacted": False,
        "locale": "en",
        "banner": "",
        "services": [],
    }
    post(integration, times=4)  # below the push threshold (5): customers are not told yet
    snapshots.clear()
    assert client.get("/api/v1/status?locale=en").json()["impacted"] is False
    incident = post(integration, times=1)
    snapshots.clear()
    body = client.get("/api/v1/status?locale=en-GB").json()
    assert body["impacted"] is True
    assert body["banner"] == EN_BANNER
    assert body["services"] == [
        {
            "service": "login",
            "name": "Login no app",
            "since": incident.opened_at.isoformat().replace("+00:00", "Z"),
            "banner": EN_BANNER,
        }
    ]
    portuguese = client.get("/api/v1/status").json()
    assert portuguese["locale"] == "pt-BR"
    assert portuguese["banner"].startswith("Login no app está indisponível")
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    snapshots.clear()
    assert client.get("/api/v1/status?locale=en").json()["impacted"] is False


def test_a_service_not_customer_facing_is_never_listed(visible, integration):
    visible["login"].status_visible = False
    visible["login"].save()
    post(integration)
    assert APIClient().get("/api/v1/status").json()["services"] == []


def test_status_is_served_from_a_snapshot_with_etag_and_cache_control(
    visible, integration, settings
):
    settings.CXHUB_STATUS_CACHE_SECONDS = 30
    client = APIClient()
    first = client.get("/api/v1/status?locale=en")
    assert first["Cache-Control"] == "public, max-age=30"
    etag = first["ETag"]
    post(integration)
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/api/v1/status?locale=en", HTTP_IF_NONE_MATCH=etag)
    # Within the snapshot's life nothing is read: the incident shows at its next rebuild.
    assert len(queries) == 0
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    snapshots.clear()
    changed = client.get("/api/v1/status?locale=en", HTTP_IF_NONE_MATCH=f'W/{etag}, "x"')
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["impacted"] is True
    same = client.get("/api/v1/status?locale=en", HTTP_IF_NONE_MATCH=changed["ETag"])
    assert same.status_code == 304


def test_a_malformed_locale_is_refused_and_an_unknown_one_falls_back(visible):
    client = APIClient()
    response = client.get("/api/v1/status?locale=<script>")
    assert response.status_code == 400
    assert list(response.json()) == ["locale"]
    assert client.get("/api/v1/status?locale=de-DE").json()["locale"] == "pt-BR"


def test_anonymous_access_can_be_switched_off(visible, settings, ingest_client, registry_client):
    settings.CXHUB_STATUS_API_ANONYMOUS = False
    assert APIClient().get("/api/v1/status").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer nope")
    assert bad.get("/api/v1/status").status_code == 401
    # A monitoring token is not the app backend's credential.
    assert ingest_client.get("/api/v1/status").status_code == 403
    response = registry_client.get("/api/v1/status")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("private")
    assert "Authorization" in response["Vary"]
