"""PagerDuty's JSON in cxhub's terms: pure functions, no database, no network."""

from datetime import UTC, datetime

from importers import pagerduty

NOW = datetime(2026, 6, 1, 6, tzinfo=UTC)


def test_a_pagerduty_layer_in_force_after_its_virtual_start_begins_with_the_right_person():
    layer = {
        "name": "Weekly",
        # Three weekly turns after the virtual start: the fourth person's turn (index 3 % 2 = 1).
        "start": "2026-06-15T09:00:00Z",
        "rotation_virtual_start": "2026-05-25T09:00:00Z",
        "rotation_turn_length_seconds": 604800,
        "users": [{"user": {"id": "A"}}, {"user": {"id": "B"}}],
    }
    skipped = []

    found = pagerduty._layer(layer, "here", NOW, skipped)

    assert (found.start, found.participants) == (datetime(2026, 6, 15, 9, tzinfo=UTC), ("B", "A"))
    assert skipped == []


def test_pagerduty_rules_start_when_the_rules_before_them_have_waited():
    policy = {
        "name": "EP",
        "escalation_rules": [
            {
                "escalation_delay_in_minutes": 10,
                "targets": [{"id": "S", "type": "schedule_reference"}],
            },
            {"escalation_delay_in_minutes": 20, "targets": [{"id": "U", "type": "user_reference"}]},
            {"escalation_delay_in_minutes": 30, "targets": [{"id": "S", "type": "schedule"}]},
        ],
    }

    tiers = pagerduty._tiers(policy, {"S"}, {"U"}, [])

    assert [(t.target, t.after_minutes) for t in tiers] == [
        ("schedule", 0),
        ("person", 10),
        ("schedule", 30),
    ]
