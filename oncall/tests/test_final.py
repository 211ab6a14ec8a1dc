"""The final schedule, computed from plain data: no database."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from oncall.final import (
    CUSTOM,
    DAILY,
    DAY,
    FEED,
    HOURLY,
    OVERRIDE,
    WEEK,
    WEEKLY,
    Interval,
    Layer,
    Override,
    Restriction,
    final_schedule,
    gaps,
    on_call_at,
)

BERLIN = ZoneInfo("Europe/Berlin")
SAO_PAULO = "America/Sao_Paulo"


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def final(layers, overrides=(), *, start, end, zone="Europe/Berlin", feed=()):
    return final_schedule(
        layers=layers, overrides=overrides, feed=feed, time_zone=zone, start=start, end=end
    )


def spans(intervals):
    return [(i.user, i.start.astimezone(UTC), i.end.astimezone(UTC)) for i in intervals]


def test_daily_rotation_hands_off_at_nine_in_berlin_across_the_march_switch():
    # Clocks go from 02:00 CET to 03:00 CEST on Sunday 2026-03-29.
    layer = Layer(DAILY, berlin(2026, 3, 27, 9), ("ana", "bruno"))
    result = final([layer], start=berlin(2026, 3, 27, 9), end=berlin(2026, 3, 31, 9))
    assert spans(result) == [
        ("ana", utc(2026, 3, 27, 8), utc(2026, 3, 28, 8)),
        ("bruno", utc(2026, 3, 28, 8), utc(2026, 3, 29, 7)),  # 23 hours
        ("ana", utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)),
        ("bruno", utc(2026, 3, 30, 7), utc(2026, 3, 31, 7)),
    ]
    assert all(i.start.astimezone(BERLIN).hour == 9 for i in result)


def test_daily_rotation_hands_off_at_nine_in_berlin_across_the_october_switch():
    # Clocks go from 03:00 CEST back to 02:00 CET on Sunday 2026-10-25.
    layer = Layer(DAILY, berlin(2026, 10, 1, 9), ("ana", "bruno", "carla"))
    result = final([layer], start=berlin(2026, 10, 24, 9), end=berlin(2026, 10, 26, 9))
    assert spans(result) == [
        # 23 turns after October 1st: the third participant.
        ("carla", utc(2026, 10, 24, 7), utc(2026, 10, 25, 8)),  # 25 hours
        ("ana", utc(2026, 10, 25, 8), utc(2026, 10, 26, 8)),
    ]


def test_weekly_rotation_keeps_monday_nine_across_the_switch():
    layer = Layer(WEEKLY, berlin(2026, 3, 16, 9), ("ana", "bruno"))
    result = final([layer], start=berlin(2026, 3, 20), end=berlin(2026, 4, 6, 9))
    assert [(u, s.astimezone(BERLIN), e.astimezone(BERLIN)) for u, s, e in spans(result)] == [
        ("ana", berlin(2026, 3, 20), berlin(2026, 3, 23, 9)),
        ("bruno", berlin(2026, 3, 23, 9), berlin(2026, 3, 30, 9)),
        ("ana", berlin(2026, 3, 30, 9), berlin(2026, 4, 6, 9)),
    ]


def test_a_handoff_in_the_spring_gap_happens_just_after_it():
    layer = Layer(DAILY, berlin(2026, 3, 27, 2, 30), ("ana", "bruno"))
    result = final([layer], start=berlin(2026, 3, 28, 12), end=berlin(2026, 3, 30, 12))
    # 02:30 does not exist on the 29th: the handoff is at 03:30 CEST (01:30 UTC).
    assert [i.start for i in result[1:]] == [utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)]


def test_hourly_rotation_steps_in_real_hours_across_the_switch():
    layer = Layer(HOURLY, berlin(2026, 3, 29, 0), ("ana", "bruno"))
    result = final([layer], start=berlin(2026, 3, 29, 0), end=berlin(2026, 3, 29, 5))
    # 00:00 to 05:00 local is four real hours that day.
    assert [i.user for i in result] == ["ana", "bruno", "ana", "bruno"]
    assert all(i.end - i.start == timedelta(hours=1) for i in result)


def test_custom_length_of_twelve_hours_and_of_two_days():
    twelve = Layer(CUSTOM, utc(2026, 5, 1, 6), ("ana", "bruno"), length=timedelta(hours=12))
    result = final([twelve], start=utc(2026, 5, 1, 6), end=utc(2026, 5, 2, 18), zone="UTC")
    assert [(i.user, i.start.hour) for i in result] == [("ana", 6), ("bruno", 18), ("ana", 6)]
    two_days = Layer(CUSTOM, berlin(2026, 3, 27, 9), ("ana", "bruno"), length=timedelta(days=2))
    result = final([two_days], start=berlin(2026, 3, 27, 9), end=berlin(2026, 4, 2, 9))
    assert [(i.user, i.start.astimezone(BERLIN)) for i in result] == [
        ("ana", berlin(2026, 3, 27, 9)),
        ("bruno", berlin(2026, 3, 29, 9)),
        ("ana", berlin(2026, 3, 31, 9)),
    ]


def test_a_single_participant_is_one_unbroken_shift():
    layer = Layer(DAILY, utc(2026, 1, 1), ("ana",))
    result = final([layer], start=utc(2026, 1, 1), end=utc(2026, 1, 8), zone="UTC")
    assert spans(result) == [("ana", utc(2026, 1, 1), utc(2026, 1, 8))]


def test_a_higher_layer_wins_and_its_restriction_lets_the_lower_show_through():
    base = Layer(WEEKLY, berlin(2026, 6, 1), ("night",), key=1)
    business = Layer(
        DAILY,
        berlin(2026, 6, 1),
        ("ana", "bruno"),
        restrictions=(Restriction(DAY, time(9), timedelta(hours=8)),),
        key=2,
    )
    result = final([base, business], start=berlin(2026, 6, 1), end=berlin(2026, 6, 3))
    local = [
        (i.user, i.start.astimezone(BERLIN).hour, i.end.astimezone(BERLIN).hour) for i in result
    ]
    assert local == [
        ("night", 0, 9),
        ("ana", 9, 17),
        ("night", 17, 9),
        ("bruno", 9, 17),
        ("night", 17, 0),
    ]
    assert {i.key for i in result if i.user == "night"} == {1}


def test_a_restriction_that_crosses_midnight():
    layer = Layer(
        DAILY,
        utc(2026, 2, 2, 8),
        ("owl",),
        restrictions=(Restriction(DAY, time(22), timedelta(hours=10)),),
    )
    result = final([layer], start=utc(2026, 2, 2, 0), end=utc(2026, 2, 4, 0), zone="UTC")
    assert spans(result) == [
        ("owl", utc(2026, 2, 2, 22), utc(2026, 2, 3, 8)),
        ("owl", utc(2026, 2, 3, 22), utc(2026, 2, 4, 0)),
    ]


def test_a_weekly_restriction_covers_business_days_only():
    # Monday 09:00 for four days and eight hours: to Friday 17:00.
    layer = Layer(
        WEEKLY,
        berlin(2026, 6, 1, 9),
        ("ana",),
        restrictions=(Restriction(WEEK, time(9), timedelta(days=4, hours=8), start_day=0),),
    )
    result = final([layer], start=berlin(2026, 6, 1), end=berlin(2026, 6, 15))
    assert [(i.start.astimezone(BERLIN), i.end.astimezone(BERLIN)) for i in result] == [
        (berlin(2026, 6, 1, 9), berlin(2026, 6, 5, 17)),
        (berlin(2026, 6, 8, 9), berlin(2026, 6, 12, 17)),
    ]


def test_an_override_splits_a_shift_in_three():
    layer = Layer(DAILY, utc(2026, 7, 1, 9), ("ana", "bruno"))
    cover = Override("carla", utc(2026, 7, 1, 12), utc(2026, 7, 1, 14), key=7)
    result = final([layer], [cover], start=utc(2026, 7, 1, 9), end=utc(2026, 7, 2, 9), zone="UTC")
    assert [(i.user, i.source, i.start.hour, i.end.hour) for i in result] == [
        ("ana", "layer", 9, 12),
        ("carla", OVERRIDE, 12, 14),
        ("ana", "layer", 14, 9),
    ]


def test_the_later_of_two_overlapping_overrides_wins():
    layer = Layer(DAILY, utc(2026, 7, 1), ("ana",))
    first = Override("bruno", utc(2026, 7, 1, 10), utc(2026, 7, 1, 16))
    later = Override("carla", utc(2026, 7, 1, 12), utc(2026, 7, 1, 14))
    result = final([layer], [first, later], start=utc(2026, 7, 1), end=utc(2026, 7, 2), zone="UTC")
    assert [(i.user, i.start.hour) for i in result] == [
        ("ana", 0),
        ("bruno", 10),
        ("carla", 12),
        ("bruno", 14),
        ("ana", 16),
    ]


def test_a_layer_ends_and_leaves_a_gap():
    layer = Layer(DAILY, utc(2026, 7, 1), ("ana", "bruno"), end=utc(2026, 7, 3, 6))
    result = final([layer], start=utc(2026, 7, 1), end=utc(2026, 7, 4), zone="UTC")
    assert result[-1].end == utc(2026, 7, 3, 6)
    assert gaps(result, utc(2026, 7, 1), utc(2026, 7, 4)) == [(utc(2026, 7, 3, 6), utc(2026, 7, 4))]


def test_gaps_are_the_hours_a_restricted_schedule_leaves_empty():
    layer = Layer(
        DAILY,
        utc(2026, 7, 1),
        ("ana",),
        restrictions=(Restriction(DAY, time(8), timedelta(hours=12)),),
    )
    result = final([layer], start=utc(2026, 7, 1), end=utc(2026, 7, 3), zone="UTC")
    assert gaps(result, utc(2026, 7, 1), utc(2026, 7, 3)) == [
        (utc(2026, 7, 1), utc(2026, 7, 1, 8)),
        (utc(2026, 7, 1, 20), utc(2026, 7, 2, 8)),
        (utc(2026, 7, 2, 20), utc(2026, 7, 3)),
    ]
    assert gaps([], utc(2026, 7, 1), utc(2026, 7, 2)) == [(utc(2026, 7, 1), utc(2026, 7, 2))]


def test_a_feed_may_have_two_people_at_once_and_an_override_beats_both():
    feed = [
        Interval("ana", utc(2026, 8, 1, 0), utc(2026, 8, 2, 0)),
        Interval("bruno", utc(2026, 8, 1, 12), utc(2026, 8, 2, 12)),
    ]
    cover = Override("carla", utc(2026, 8, 1, 18), utc(2026, 8, 1, 20))
    result = final([], [cover], feed=feed, start=utc(2026, 8, 1), end=utc(2026, 8, 3), zone="UTC")
    assert on_call_at(result, utc(2026, 8, 1, 13)) == ["ana", "bruno"]
    assert on_call_at(result, utc(2026, 8, 1, 19)) == ["carla"]
    assert {i.source for i in result} == {FEED, OVERRIDE}
    assert on_call_at(result, utc(2026, 8, 2, 13)) == []


def test_the_range_starts_mid_rotation_with_the_right_person():
    layer = Layer(DAILY, berlin(2026, 1, 1, 9), ("ana", "bruno", "carla"))
    # 2026-12-31 09:00 is 364 turns after the start: 364 % 3 == 1.
    result = final([layer], start=berlin(2026, 12, 31, 12), end=berlin(2026, 12, 31, 13))
    assert spans(result) == [("bruno", utc(2026, 12, 31, 11), utc(2026, 12, 31, 12))]


def test_a_custom_rotation_needs_a_length_and_times_must_be_aware():
    with pytest.raises(ValueError):
        final(
            [Layer(CUSTOM, utc(2026, 1, 1), ("ana",))], start=utc(2026, 1, 1), end=utc(2026, 1, 2)
        )
    with pytest.raises(ValueError):
        final([], start=datetime(2026, 1, 1), end=datetime(2026, 1, 2))


def test_sao_paulo_has_no_switch_and_nothing_else_changes():
    layer = Layer(DAILY, datetime(2026, 1, 1, 8, tzinfo=ZoneInfo(SAO_PAULO)), ("ana", "bruno"))
    result = final([layer], start=utc(2026, 1, 1, 11), end=utc(2026, 1, 3, 11), zone=SAO_PAULO)
    assert spans(result) == [
        ("ana", utc(2026, 1, 1, 11), utc(2026, 1, 2, 11)),
        ("bruno", utc(2026, 1, 2, 11), utc(2026, 1, 3, 11)),
    ]


def test_layers_that_add_up_put_everyone_on_call_where_they_overlap():
    # Opsgenie's rotations: a weekly primary all day, a daily secondary 09:00-18:00.
    primary = Layer(WEEKLY, berlin(2026, 6, 1, 0), ("ana", "bruno"))
    secondary = Layer(
        DAILY,
        berlin(2026, 6, 1, 9),
        ("carla", "dave"),
        restrictions=(Restriction(DAY, time(9), timedelta(hours=9)),),
    )
    lunch = Override("erin", berlin(2026, 6, 2, 12), berlin(2026, 6, 2, 13))

    result = final_schedule(
        layers=[primary, secondary],
        overrides=[lunch],
        time_zone=BERLIN,
        start=berlin(2026, 6, 1, 0),
        end=berlin(2026, 6, 3, 0),
        layers_add_up=True,
    )

    assert on_call_at(result, berlin(2026, 6, 1, 8)) == ["ana"]
    assert sorted(on_call_at(result, berlin(2026, 6, 1, 10))) == ["ana", "carla"]
    assert sorted(on_call_at(result, berlin(2026, 6, 2, 10))) == ["ana", "dave"]
    # An override replaces every rotation.
    assert on_call_at(result, berlin(2026, 6, 2, 12, 30)) == ["erin"]
    # Stacked (the default), the higher layer hides the lower one.
    stacked = final([primary, secondary], [lunch], start=berlin(2026, 6, 1), end=berlin(2026, 6, 3))
    assert on_call_at(stacked, berlin(2026, 6, 1, 10)) == ["carla"]
    # Adding up, Ana's turn is cut only by the override.
    assert [(i.start, i.end) for i in result if i.user == "ana"] == [
        (utc(2026, 5, 31, 22), utc(2026, 6, 2, 10)),
        (utc(2026, 6, 2, 11), utc(2026, 6, 2, 22)),
    ]


def test_a_person_in_two_layers_that_add_up_has_one_shift_where_they_overlap():
    weekly = Layer(WEEKLY, berlin(2026, 6, 1, 0), ("ana",))
    days = Layer(
        DAILY,
        berlin(2026, 6, 1, 9),
        ("ana", "bruno"),
        restrictions=(Restriction(DAY, time(9), timedelta(hours=9)),),
    )

    result = final_schedule(
        layers=[weekly, days],
        time_zone=BERLIN,
        start=berlin(2026, 6, 1, 0),
        end=berlin(2026, 6, 3, 0),
        layers_add_up=True,
    )

    assert spans(i for i in result if i.user == "ana") == [
        ("ana", utc(2026, 5, 31, 22), utc(2026, 6, 2, 22))
    ]
    assert spans(i for i in result if i.user == "bruno") == [
        ("bruno", utc(2026, 6, 2, 7), utc(2026, 6, 2, 16))
    ]
