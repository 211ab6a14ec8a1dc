"""The fake APIs' by-hand mode: the account moved to the coming week."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from importers.tests.fakes import moved, weeks_to_next_monday


def test_moments_move_by_whole_weeks_at_the_same_wall_clock_time():
    data = {"a": ["2026-06-01T07:00:00Z", {"b": "2026-06-01T09:00:00+02:00"}], "c": "Nights"}

    # Berlin: 09:00 in summer (+02:00) is 09:00 in winter (+01:00).
    assert moved(data, timedelta(weeks=27), ZoneInfo("Europe/Berlin")) == {
        "a": ["2026-12-07T08:00:00Z", {"b": "2026-12-07T09:00:00+01:00"}],
        "c": "Nights",
    }


def test_the_accounts_monday_becomes_the_next_monday():
    assert weeks_to_next_monday(date(2026, 12, 3)) == 27  # Thursday -> Monday 2026-12-07
    assert weeks_to_next_monday(date(2026, 11, 30)) == 27  # a Monday -> the one after
