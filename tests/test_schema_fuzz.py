"""Fuzz the API from its own OpenAPI schema (schemathesis, in-process over WSGI).

Every operation, each with the credential its schema entry names, valid and invalid
requests; then a stateful phase that follows the schema's links from real answers.
Every response must be a non-5xx, with a documented status code and content type
and a body matching the schema. Examples are bounded (100 per operation and mode,
25 stateful scenarios of at most 6 steps).
"""

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apikeys.services import api_key_create
from conftest import ORIGINAL_PAYLOAD
from cxhub.wsgi import application
from incidents.models import Integration

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(db):
    # Like Django's test client: keep the test's connection (and transaction) open
    # across requests instead of closing it when each request finishes.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(scenario, integration_token, django_user_model):
    from django.contrib.auth.models import Group

    staff = django_user_model.objects.create_user("fuzz", is_staff=True)
    # Both roles, so the search reaches what Support and CX staff may do.
    staff.groups.add(*Group.objects.filter(name__in=["Support", "CX staff"]))
    backend = Integration(name="fuzz-app-backend", kind=Integration.Kind.APP_BACKEND)
    backend_token = backend.set_new_token()
    backend.save()
    opsgenie = Integration(name="fuzz-opsgenie", kind=Integration.Kind.OPSGENIE)
    opsgenie_token = opsgenie.set_new_token()
    opsgenie.save()
    return {
        "integration": f"Bearer {integration_token}",
        "app_backend": f"Bearer {backend_token}",
        "opsgenie": f"GenieKey {opsgenie_token}",
        "staff": f"Token {api_key_create(user=staff, name='tests')[1]}",
    }


def credential_for(path: str) -> str:
    """Name the credential each path takes (what its schema entry says)."""
    if path.startswith(("/api/v1/incidents", "/api/v1/schedules")):
        return "staff"
    if path.startswith("/api/v1/customers"):
        return "app_backend"  # the registry's own credential
    if path.startswith("/v2/alerts"):
        return "opsgenie"  # the schema says GenieKey, and only it works
    return "integration"


def fuzz(operation, headers, mode):
    """Run a bounded Hypothesis search on one operation."""

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=100,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def test_api_conforms_to_its_schema(api_schema, credentials):
    # One bounded search per operation (schemathesis' pytest plugin does not
    # support pytest 9 yet, hence the explicit loop).
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/triggers", "/api/v1/customers"}
    for operation in operations:
        headers = {"Authorization": credentials[credential_for(operation.path)]}
        # Valid requests (accepted or rejected on rules the schema cannot say) and
        # invalid ones (which must be 4xx, never 5xx).
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # Each search starts with a clean failed-authentication count: the token
            # endpoints' invalid tokens must not throttle the next operation's calls.
            cache.clear()
            fuzz(operation, headers, mode)


def test_api_conforms_to_its_schema_along_its_links(api_schema, credentials):
    """The stateful phase: follow the schema's links (cxhub.schema.LINKS) from real answers.

    An incident listed is fetched, acknowledged, resolved, silenced and its reports read;
    an Opsgenie alert created is closed, acknowledged and updated by its request id.
    """
    from incidents.counting.drain import reports_drain
    from incidents.services import report_ingest

    # Not through Django's test client: it would reconnect close_old_connections, and
    # the schema's in-process calls would then close the test's connection.
    report_ingest(
        integration=None,
        triggers=[{"service": "login", "code": "503"}],
        payload=ORIGINAL_PAYLOAD,
    )
    reports_drain()  # counted here, so the list has an incident to follow links from

    class Machine(api_schema.as_state_machine()):
        def get_call_kwargs(self, case):
            cache.clear()  # invalid credentials of one step must not throttle the next
            return {"headers": {"Authorization": credentials[credential_for(case.operation.path)]}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Machine.run(
        settings=settings(
            max_examples=25,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
    )
