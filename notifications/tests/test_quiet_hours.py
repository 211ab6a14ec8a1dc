"""Quiet hours as pure functions: no database."""

from datetime import UTC, datetime, time

import pytest

from cxhub.daily_window import parse_window
from notifications.quiet_hours import morning_of

NIGHT = (time(22, 0), time(8, 0))


def test_a_customer_in_their_night_is_held_until_their_morning():
    # 02:00 UTC is 23:00 in Sao Paulo (UTC-3): night; morning is 08:00 local = 11:00 UTC.
    moment = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert morning_of(moment, "America/Sao_Paulo", NIGHT) == datetime(
        2026, 12, 1, 11, 0, tzinfo=UTC
    )
    # The same moment is 11:00 in Tokyo: day, send now.
    assert morning_of(moment, "Asia/Tokyo", NIGHT) is None


def test_after_midnight_the_morning_is_the_same_day():
    moment = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)  # 05:30 in Sao Paulo
    assert morning_of(moment, "America/Sao_Paulo", NIGHT) == datetime(
        2026, 12, 1, 11, 0, tzinfo=UTC
    )


def test_the_window_edges_and_a_window_within_one_day():
    sp = "America/Sao_Paulo"
    assert morning_of(datetime(2026, 12, 1, 11, 0, tzinfo=UTC), sp, NIGHT) is None  # 08:00
    assert morning_of(datetime(2026, 12, 2, 1, 0, tzinfo=UTC), sp, NIGHT) is not None  # 22:00
    early = (time(1, 0), time(6, 0))
    assert morning_of(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), sp, early) is None  # 00:00
    assert morning_of(datetime(2026, 12, 1, 5, 0, tzinfo=UTC), sp, early) == datetime(
        2026, 12, 1, 9, 0, tzinfo=UTC
    )
    assert morning_of(datetime(2026, 12, 1, 5, 0, tzinfo=UTC), sp, None) is None


def test_daylight_saving_change_gives_the_real_local_morning():
    # New York springs forward on 2027-03-14; 08:00 local is then UTC-4.
    moment = datetime(2027, 3, 14, 5, 0, tzinfo=UTC)  # 00:00 EST
    assert morning_of(moment, "America/New_York", NIGHT) == datetime(2027, 3, 14, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["22-08", "25:00-08:00", "22:00-22:00", "x"])
def test_a_bad_window_is_refused(text):
    with pytest.raises(ValueError, match="Quiet hours"):
        parse_window(text)


def test_a_window_parses_and_empty_means_none():
    assert parse_window("22:00-08:00") == NIGHT
    assert parse_window("") is None
