"""Rotation lengths of the sources as cxhub rotations."""

from datetime import timedelta

from importers import specs


def test_rotation_lengths_become_cxhub_rotations():
    assert specs.rotation_of("days", 1) == ("daily", None)
    assert specs.rotation_of("hours", 12) == ("custom", timedelta(hours=12))
    assert specs.rotation_of("weeks", 2) == ("custom", timedelta(weeks=2))
    assert specs.rotation_of_seconds(604800) == ("weekly", None)
    assert specs.rotation_of_seconds(43200) == ("custom", timedelta(hours=12))
