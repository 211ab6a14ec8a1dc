"""A monitoring sender acknowledges only incidents that it alone feeds."""

from actions.models import TriggerRule
from conftest import post_original
from incidents.models import Incident
from incidents.tests.api.test_opsgenie import CREATE, call
from incidents.tests.senders import make_integration, process_all


def opsgenie_incident(scenario):
    TriggerRule.objects.create(
        action=scenario["action"], service=scenario["login"], code="LoginDown"
    )
    _, token = make_integration("opsgenie", name="opsgenie")
    assert call(token, "/v2/alerts", CREATE).status_code == 202
    process_all()
    return token, Incident.objects.get()


def test_a_sender_acknowledges_an_incident_only_it_feeds(scenario):
    token, incident = opsgenie_incident(scenario)
    call(token, f"/v2/alerts/{CREATE['alias']}/acknowledge?identifierType=alias", {})
    process_all()
    incident.refresh_from_db()
    assert incident.status == "acknowledged"


def test_one_sender_cannot_stop_the_escalation_of_an_incident_others_feed(scenario):
    token, incident = opsgenie_incident(scenario)
    post_original()  # the cxhub integration feeds the same incident (login 503)
    incident.refresh_from_db()
    assert incident.occurrences == 2
    call(token, f"/v2/alerts/{CREATE['alias']}/acknowledge?identifierType=alias", {})
    process_all()
    incident.refresh_from_db()
    assert incident.status == "open"
    assert incident.events.filter(detail__contains="other senders").exists()


def test_pagerduty_acknowledge_obeys_the_same_rule(scenario):
    from rest_framework.test import APIClient

    _, token = make_integration("pagerduty", name="pd")

    def event(action):
        return {
            "routing_key": token,
            "event_action": action,
            "dedup_key": "k1",
            "payload": {
                "summary": "login 503",
                "source": "login",
                "class": "503",
                "severity": "critical",
            },
        }

    assert APIClient().post("/v2/enqueue", event("trigger"), format="json").status_code == 202
    process_all()
    assert Incident.objects.get().occurrences == 1
    post_original()
    APIClient().post("/v2/enqueue", event("acknowledge"), format="json")
    process_all()
    assert Incident.objects.get().status == "open"
