"""The sources' JSON in cxhub's terms: pure functions, no database, no network."""

from datetime import UTC, datetime, time, timedelta

from importers import opsgenie, pagerduty, specs
from importers.overlap import overlapping_layers

NOW = datetime(2026, 6, 1, 6, tzinfo=UTC)


def test_a_time_of_day_window_across_midnight_lasts_until_the_next_morning():
    rule = {
        "type": "time-of-day",
        "restriction": {"startHour": 22, "startMin": 30, "endHour": 6, "endMin": 0},
    }

    assert opsgenie.restrictions_of(rule) == (
        specs.Restriction("day", time(22, 30), timedelta(hours=7, minutes=30)),
    )


def test_a_weekday_window_from_friday_evening_to_monday_morning_wraps_the_week():
    rule = {
        "type": "weekday-and-time-of-day",
        "restrictions": [
            {
                "startDay": "friday",
                "startHour": 18,
                "startMin": 0,
                "endDay": "monday",
                "endHour": 8,
                "endMin": 30,
            }
        ],
    }

    assert opsgenie.restrictions_of(rule) == (
        specs.Restriction("week", time(18), timedelta(days=2, hours=14, minutes=30), 4),
    )


def test_rotation_lengths_become_cxhub_rotations():
    assert specs.rotation_of("days", 1) == ("daily", None)
    assert specs.rotation_of("hours", 12) == ("custom", timedelta(hours=12))
    assert specs.rotation_of("weeks", 2) == ("custom", timedelta(weeks=2))
    assert specs.rotation_of_seconds(604800) == ("weekly", None)
    assert specs.rotation_of_seconds(43200) == ("custom", timedelta(hours=12))


def test_opsgenie_phone_numbers_become_e164():
    raw = {
        "users": [
            {
                "id": "u1",
                "username": "ana@bank.test",
                "fullName": "Ana",
                "contacts": [{"id": "c1", "method": "sms", "to": "55-11999990001"}],
            }
        ],
        "teams": [],
        "schedules": [],
        "escalations": [],
    }

    person = opsgenie.translate(raw, now=NOW).people[0]

    assert person.contacts[0].address == "+5511999990001"


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


def test_overlapping_rotations_are_reported_with_the_first_moment():
    def layer(name, start_hour):
        return specs.Layer(
            name=name,
            rotation="daily",
            start=datetime(2026, 6, 1, start_hour, tzinfo=UTC),
            participants=("a",),
            restrictions=(specs.Restriction("day", time(9), timedelta(hours=9)),),
        )

    schedule = specs.Schedule("s", "S", "UTC", layers=(layer("Day", 9), layer("Also day", 12)))

    assert overlapping_layers(schedule, NOW) == [
        ("Day", "Also day", datetime(2026, 6, 1, 12, tzinfo=UTC))
    ]
