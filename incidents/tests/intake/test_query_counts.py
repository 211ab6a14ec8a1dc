"""The SQL cost of a trigger is a constant: it does not grow with actions or incidents."""

import math

import pytest
from django.db import connection
from django.utils import timezone

from actions.models import Action, Service, Tier, TriggerRule
from incidents import services
from incidents.intake import ingest
from incidents.models import Incident, Report, Trigger

pytestmark = pytest.mark.django_db

# With the integration and rule match cached, recording a report is one statement on
# PostgreSQL (a report of up to ONE_STATEMENT_MAX triggers); otherwise the report
# insert, the trigger batches and the transaction's own statements (savepoints here,
# as each test runs inside a transaction). The integration's counters are the worker's.
# Per batch of waiting reports: the report (plain or ordered), the batch's locking
# select, claim, the claimed reports, their triggers, rule match, occurrence count,
# incident, link triggers, the maintenance window lookup, the integration's
# counters, and the transaction's two statements.
PROCESS_QUERIES = 13
# A drain: the batch (less the first look at one report) and a look for stateful
# reports, then a second round of both looks that finds nothing (3 + 1).
DRAIN_QUERIES = PROCESS_QUERIES - 1 + 1 + 4


def ingest_queries(n: int) -> int:
    """Return the statements that record a report of n triggers."""
    if connection.vendor == "postgresql" and n <= ingest.ONE_STATEMENT_MAX:
        return 1
    return 3 + trigger_inserts(n)


def trigger_inserts(n: int) -> int:
    """Return how many INSERTs Django needs for n triggers.

    One on PostgreSQL; SQLite's 999-parameter limit splits a big batch, which is
    a per-trigger chunking of the backend, not a cost that grows with actions.
    """
    fields = [f for f in Trigger._meta.concrete_fields if not f.primary_key]
    return math.ceil(n / connection.ops.bulk_batch_size(fields, [None] * n))


def crowd(scenario, n):
    """Add n actions on other services, each with an open incident and a tier."""
    now = timezone.now()
    others = Service.objects.bulk_create(Service(slug=f"svc{i}", name=f"s{i}") for i in range(n))
    actions = Action.objects.bulk_create(Action(code=f"X{i}", name=f"x{i}") for i in range(n))
    TriggerRule.objects.bulk_create(
        TriggerRule(action=a, service=s, code="503") for a, s in zip(actions, others, strict=True)
    )
    Tier.objects.bulk_create(
        Tier(action=a, level=1, name="N1", team=scenario["teams"]["n1"], after_occurrences=99)
        for a in actions
    )
    Incident.objects.bulk_create(
        Incident(action=a, occurrences=1, opened_at=now, last_occurrence_at=now, policy={})
        for a in actions
    )


def post(client, n):
    body = {"gatilhos": [{"servico": "login", "retorno": "503"}] * n}
    response = client.post("/api/v1/triggers", body, format="json")
    assert response.status_code == 202
    return Report.objects.get(id=response.json()["report"])


@pytest.mark.parametrize("triggers", [1, 100])
@pytest.mark.parametrize("others", [0, 200])
def test_ingest_costs_a_constant_number_of_queries(
    ingest_client, scenario, django_assert_num_queries, triggers, others
):
    crowd(scenario, others)
    post(ingest_client, 1)  # warms the per-process caches
    # and the test's own lookup of the report
    with django_assert_num_queries(ingest_queries(triggers) + 1):
        post(ingest_client, triggers)


@pytest.mark.parametrize("triggers", [1, 100])
@pytest.mark.parametrize("others", [0, 200])
def test_processing_a_report_costs_a_constant_number_of_queries(
    ingest_client, scenario, django_assert_num_queries, triggers, others
):
    crowd(scenario, others)
    # The incident is open and past its push and tier 1 thresholds (steady state).
    for _ in range(12):
        services.report_process(post(ingest_client, 1).id)
    report = post(ingest_client, triggers)
    with django_assert_num_queries(PROCESS_QUERIES):
        assert services.report_process(report.id)
    assert Incident.objects.get(action=scenario["action"]).occurrences == 13


def test_waiting_reports_are_counted_in_one_batch_at_the_cost_of_one(
    ingest_client, scenario, django_assert_num_queries
):
    for _ in range(12):
        services.report_process(post(ingest_client, 1).id)
    # Seven more stay below N2's 20 occurrences, so the batch only counts.
    waiting = [post(ingest_client, 1) for _ in range(7)]
    with django_assert_num_queries(DRAIN_QUERIES):
        assert services.reports_drain() == 7
    assert not Report.objects.filter(processed_at=None).exists()
    assert Incident.objects.get(action=scenario["action"]).occurrences == 19
    # Each was one occurrence; a later task for any of them finds nothing to do.
    assert not services.report_process(waiting[0].id)
