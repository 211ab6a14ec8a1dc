"""Opsgenie's JSON in cxhub's terms: pure functions, no database, no network."""

from datetime import UTC, datetime, time, timedelta

from importers import opsgenie, specs

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


def test_contact_delays_come_from_the_new_alert_rule_steps():
    user = {
        "id": "u1",
        "username": "ana@bank.test",
        "contacts": [
            {"id": "c-mail", "method": "email", "to": "Ana@Bank.test", "applyOrder": 0},
            {"id": "c-sms", "method": "sms", "to": "55-11999990001", "applyOrder": 1},
            {"id": "c-old", "method": "email", "to": "old@bank.test", "applyOrder": 2},
        ],
        "notificationRules": [
            {
                "id": "r1",
                "actionType": "create-alert",
                "enabled": True,
                "steps": [
                    {
                        "sendAfter": {"timeAmount": 1, "timeUnit": "hours"},
                        "contact": {"method": "email", "to": "ana@bank.test"},
                    },
                    {
                        "sendAfter": {"timeAmount": 0, "timeUnit": "minutes"},
                        "contact": {"method": "sms", "to": "5511999990001"},
                    },
                ],
            }
        ],
    }
    raw = {"users": [user], "teams": [], "schedules": [], "escalations": []}

    contacts = opsgenie.translate(raw, now=NOW).people[0].contacts

    assert [(c.external_id, c.position, c.delay_minutes, c.enabled) for c in contacts] == [
        ("c-sms", 0, 0, True),
        ("c-mail", 1, 60, True),
        # In no step: Opsgenie does not use it for a new alert.
        ("c-old", 2, 0, False),
    ]


def test_rotations_of_an_opsgenie_schedule_add_up():
    raw = {
        "users": [],
        "teams": [],
        "schedules": [{"id": "s1", "name": "S", "timezone": "UTC", "rotations": []}],
        "escalations": [],
    }

    assert opsgenie.translate(raw, now=NOW).schedules[0].layers_add_up


def test_escalation_rule_delays_in_hours_become_tier_minutes_in_order():
    raw = {
        "users": [],
        "teams": [{"id": "t1", "name": "N1"}],
        "schedules": [],
        "escalations": [
            {
                "id": "e1",
                "name": "E",
                "rules": [
                    {
                        "delay": {"timeAmount": 2, "timeUnit": "hours"},
                        "recipient": {"type": "team", "id": "t1"},
                    },
                    {
                        "delay": {"timeAmount": 30, "timeUnit": "minutes"},
                        "recipient": {"type": "team", "name": "N1"},
                    },
                ],
            }
        ],
    }

    tiers = opsgenie.translate(raw, now=NOW).policies[0].tiers

    assert [t.after_minutes for t in tiers] == [30, 120]
