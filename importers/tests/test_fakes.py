"""The fake APIs' by-hand mode: the account moved to the coming week."""

from datetime import date, timedelta

from importers.tests.fakes import moved, weeks_to_next_monday


def test_moments_move_by_whole_weeks_keeping_their_offsets():
    data = {"a": ["2026-06-01T12:00:00Z", {"b": "2026-06-01T18:00:00-03:00"}], "c": "Nights"}

    assert moved(data, timedelta(weeks=2)) == {
        "a": ["2026-06-15T12:00:00Z", {"b": "2026-06-15T18:00:00-03:00"}],
        "c": "Nights",
    }


def test_the_accounts_monday_becomes_the_next_monday():
    assert weeks_to_next_monday(date(2026, 12, 3)) == 27  # Thursday -> Monday 2026-12-07
    assert weeks_to_next_monday(date(2026, 11, 30)) == 27  # a Monday -> the one after
