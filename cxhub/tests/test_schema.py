"""The OpenAPI schema validates, covers every API endpoint, and its viewers need no CDN."""

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import get_resolver

API_PATHS = {
    "/api/v1/triggers",
    "/api/v1/integrations/{kind}/",
    "/api/v1/integrations/{kind}/{token}",
    "/api/v1/incidents/",
    "/api/v1/incidents/{id}/",
    "/api/v1/incidents/{id}/reports",
    "/api/v1/incidents/{id}/acknowledge",
    "/api/v1/incidents/{id}/resolve",
    "/api/v1/incidents/{id}/silence",
    "/api/v1/customers",
    "/api/v1/customers/bulk",
    "/api/v1/changes",
    "/api/v1/heartbeats/{token}",
    "/api/v1/status",
    "/api/v1/status/history",
    "/api/v1/schedules/",
    "/api/v1/schedules/{id}/oncall",
    "/api/v1/schedules/{id}/shifts",
    "/api/v1/schedules/{id}/overrides",
    "/api/v1/schedules/{id}/overrides/{override_id}",
}
# Served at the root, as the tools they stand in for expect.
ROOT_PATHS = {
    "/v2/enqueue",
    "/v2/change/enqueue",
    "/v2/alerts",
    "/v2/alerts/{identifier}/close",
    "/v2/alerts/{identifier}/acknowledge",
    "/v2/alerts/{identifier}/message",
    "/v2/alerts/{identifier}/description",
}
# Public feeds for anyone (readers, regulators): no credential, so no 401/403.
FEED_PATHS = {"/open-banking/discovery/v{version}/{feed}", "/status/feed.atom"}
# A heartbeat ping carries its check's token in the path, no header.
PATH_TOKEN_ONLY = {"/api/v1/heartbeats/{token}"}
# Endpoints that take a sender's body: they document 413 as well.
INGEST_PATHS = {
    "/api/v1/triggers",
    "/api/v1/integrations/{kind}/",
    "/api/v1/integrations/{kind}/{token}",
    "/api/v1/customers",
    "/api/v1/customers/bulk",
    "/api/v1/changes",
} | ROOT_PATHS


@pytest.fixture
def schema(db, tmp_path):
    path = tmp_path / "schema.yaml"
    # --fail-on-warn turns any unresolved serializer, auth class or enum clash into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_schema_validates_and_documents_every_endpoint(schema):
    assert set(schema["paths"]) == API_PATHS | ROOT_PATHS | FEED_PATHS
    routes = {
        "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(p.pattern).replace("pk>", "id>"))
        for p in get_resolver().url_patterns
        if str(p.pattern).startswith("api/v1/") and not (p.name or "").endswith("-alias")
    }
    assert routes == API_PATHS


def test_every_operation_documents_its_errors_and_auth(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["integrationToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["integrationToken"]["description"],
    }
    assert schemes["apiKey"]["type"] == "apiKey"
    assert "tokenAuth" not in schemes  # DRF's plaintext tokens are gone
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            if path in FEED_PATHS:
                assert operation["security"] == [{}] and "304" in codes, (method, path)
                continue
            assert {"401", "403"} <= codes, (method, path)
            assert operation.get("security") or path in PATH_TOKEN_ONLY, (method, path)
            if method in ("post", "put") and path not in PATH_TOKEN_ONLY:
                assert "400" in codes, (method, path)
            if path in INGEST_PATHS:
                assert "413" in codes, (method, path)
    ingest = schema["paths"]["/api/v1/triggers"]["post"]
    assert ingest["security"] == [{"integrationToken": []}]
    assert "202" in ingest["responses"]


@pytest.mark.parametrize(
    ("url", "asset"),
    [
        ("/api/docs/", "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"),
        ("/api/redoc/", "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"),
    ],
)
def test_swagger_ui_and_redoc_come_from_our_own_static_files(client, url, asset):
    html = client.get(url).content.decode()
    assert f"/static/{asset}" in html
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", html.split("<body")[0])


def test_schema_endpoint_answers_openapi(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_redoc_page_may_not_load_outside_images(client):
    header = client.get("/api/redoc/")["Content-Security-Policy"]
    # Directives in any order (django-csp builds them from a set).
    policy = dict(d.strip().partition(" ")[::2] for d in header.split(";"))
    assert policy["img-src"] == "'self' data:"
    assert policy["script-src"] == "'self'"
