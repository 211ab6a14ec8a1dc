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
