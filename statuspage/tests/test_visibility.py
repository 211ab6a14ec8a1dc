"""One rule for "customers can see it": the filter, the Python check, the page and the API agree."""

import itertools

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from actions.models import Action, Service, TriggerRule
from incidents.models import Incident
from statuspage.selectors import impacted_services, page_services
from statuspage.visibility import customer_visible, incident_customer_visible


@pytest.fixture
def matrix(db):
    """One incident per combination of: action on the page, push threshold, count, state."""
    now = timezone.now()
    made = []
    combos = itertools.product([True, False], [None, 5], [1, 4, 5, 9], ["open", "resolved"])
    for n, (on_page, threshold, occurrences, status) in enumerate(combos):
        action = Action.objects.create(
            code=f"V{n:03d}", name=f"a{n}", status_visible=on_page, push_threshold=threshold
        )
        service = Service.objects.create(slug=f"s{n}", name=f"Service {n}", status_visible=True)
        TriggerRule.objects.create(action=action, service=service, code="5xx")
        made.append(
            Incident.objects.create(
                action=action,
                opened_at=now,
                last_occurrence_at=now,
                occurrences=occurrences,
                status=status,
                resolved_at=now if status == "resolved" else None,
                policy={"push_threshold": threshold, "tiers": []},
            )
        )
    return made


def test_the_filter_and_the_python_rule_agree_on_every_combination(matrix):
    by_filter = set(customer_visible().values_list("pk", flat=True))
    by_python = {i.pk for i in matrix if incident_customer_visible(i)}
    assert by_filter == by_python
    # The rule itself: on the page, and at the frozen push threshold (at once without one).
    expected = {
        i.pk
        for i in matrix
        if i.action.status_visible
        and (i.policy["push_threshold"] is None or i.occurrences >= i.policy["push_threshold"])
    }
    assert by_python == expected
    assert 0 < len(expected) < len(matrix)


def test_the_frozen_threshold_counts_not_the_actions_current_one(matrix):
    incident = next(i for i in matrix if i.policy["push_threshold"] == 5 and i.occurrences == 4)
    incident.action.push_threshold = 2  # edited after the incident opened
    incident.action.save()
    assert not incident_customer_visible(incident)
    assert not customer_visible().filter(pk=incident.pk).exists()


def test_page_and_status_api_list_the_same_impacted_services(matrix, client):
    api = APIClient().get("/api/v1/status?locale=en").json()
    api_names = {s["name"] for s in api["services"]}
    page_names = {s["name"] for s in page_services(now=timezone.now()) if s["disrupted"]}
    expected = {
        f"Service {n}"
        for n, i in enumerate(matrix)
        if i.status == "open" and incident_customer_visible(i)
    }
    assert api_names == page_names == expected
    assert {s["name"] for s in impacted_services()} == expected
