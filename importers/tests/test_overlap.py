"""Rotations of one schedule that have someone on call at the same time."""

from datetime import UTC, datetime, time, timedelta

from importers import specs
from importers.overlap import overlapping_layers

NOW = datetime(2026, 6, 1, 6, tzinfo=UTC)


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
