"""The frozen policy: one type, stored as the JSON incidents have always kept."""

from django.utils import timezone

from incidents.models import Incident
from incidents.models.policy import Approval, Policy, Tier, incident_policy

STORED_KEYS = {
    "push_threshold",
    "push_message",
    "all_clear_message",
    "quiet_minutes",
    "flap_minutes",
    "repeat_minutes",
    "ack_timeout_minutes",
    "tiers",
    "provider",
    "audience",
    "texts",
    "approval",
    "critical",
    "fallback",
}


def test_an_actions_policy_is_stored_in_the_json_form_and_read_back_equal(scenario):
    action = scenario["action"]
    action.last_edited_by = "frank"
    policy = Policy.of(action)
    stored = policy.to_json()

    assert set(stored) == STORED_KEYS
    assert stored["tiers"][0] == {
        "level": 1,
        "name": "Analista N1",
        "team_id": scenario["teams"]["n1"].pk,
        "occurrences": 10,
        "minutes": 5,
    }
    assert set(stored["approval"]) == {"threshold", "timeout_minutes", "timeout_sends", "set_up_by"}
    assert stored["approval"]["set_up_by"] == ["frank"]
    assert stored["audience"]["service_ids"] == [scenario["login"].pk]
    assert Policy.from_json(stored) == policy
    assert [t.level for t in policy.tiers] == [1, 2, 3]


def test_a_policy_stored_without_keys_reads_as_not_used():
    policy = Policy.from_json({})
    assert policy == Policy()
    assert policy.tiers == () and policy.push_threshold is None
    assert policy.approval == Approval() and not policy.critical and policy.fallback == ""
    assert Policy.from_json({"tiers": []}).tier(1) is None


def test_an_incident_without_a_frozen_audience_takes_the_live_actions(scenario):
    action = scenario["action"]
    now = timezone.now()
    tier = {"level": 1, "name": "N1", "team_id": None, "occurrences": 2, "minutes": None}
    incident = Incident.objects.create(
        action=action, opened_at=now, last_occurrence_at=now, policy={"tiers": [tier]}
    )
    policy = incident_policy(incident)
    assert policy.audience["service_ids"] == [scenario["login"].pk]
    assert policy.texts["outage"]["default"] == action.push_message
    assert policy.tiers == (Tier(**tier),)  # what was frozen stays frozen

    frozen = {"scope": "all", "service_ids": [], "tags": [], "platforms": [], "locales": []}
    incident.policy = {"audience": frozen, "texts": {"outage": {"default": "x"}}}
    assert incident_policy(incident).audience == frozen
    assert incident_policy(incident).texts == {"outage": {"default": "x"}}
