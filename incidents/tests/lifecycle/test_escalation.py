from datetime import UTC, datetime, timedelta

from incidents.lifecycle.escalation import deadlines, evaluate, flap_reopens

OPENED = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
POLICY = {
    "push_threshold": 5,
    "tiers": [
        {"level": 1, "name": "Analista N1", "team_id": 1, "occurrences": 10, "minutes": 5},
        {"level": 2, "name": "Analista N2", "team_id": 2, "occurrences": 20, "minutes": 20},
        {"level": 3, "name": "Coordenação", "team_id": 3, "occurrences": None, "minutes": 60},
    ],
}


def due(occurrences, minutes=0, level=0, pushed=False, **kwargs):
    return evaluate(
        POLICY,
        occurrences=occurrences,
        opened_at=OPENED,
        now=OPENED + timedelta(minutes=minutes),
        escalation_level=level,
        pushed=pushed,
        **kwargs,
    )


def levels(result):
    return [tier["level"] for tier in result.tiers]


def test_nothing_is_due_below_every_threshold():
    result = due(4, minutes=1)
    assert not result.push
    assert levels(result) == []
    assert result.next_check_at == OPENED + timedelta(minutes=5)


def test_push_is_due_at_the_fifth_occurrence_only_once():
    assert due(5).push
    assert due(7).push
    assert not due(7, pushed=True).push


def test_first_tier_pages_at_ten_occurrences():
    result = due(10, pushed=True)
    assert levels(result) == [1]
    assert result.next_check_at == OPENED + timedelta(minutes=20)


def test_first_tier_pages_after_five_minutes_without_new_occurrences():
    assert levels(due(1, minutes=5)) == [1]
    assert levels(due(1, minutes=4.99)) == []


def test_second_tier_pages_after_twenty_minutes():
    assert levels(due(3, minutes=20, level=1)) == [2]


def test_reaching_a_high_tier_pages_every_lower_tier_not_yet_paged():
    assert levels(due(1, minutes=60)) == [1, 2, 3]
    assert levels(due(25, minutes=0)) == [1, 2]
    assert levels(due(25, minutes=61, level=1)) == [2, 3]


def test_each_tier_pages_once():
    assert levels(due(25, level=2)) == []
    assert levels(due(100, minutes=100, level=3)) == []


def test_next_check_is_the_earliest_time_threshold_above_the_paged_level():
    assert due(10, level=1).next_check_at == OPENED + timedelta(minutes=20)
    assert due(20, level=2).next_check_at == OPENED + timedelta(minutes=60)
    assert due(20, minutes=61, level=3).next_check_at is None


def test_count_reaching_a_tier_moves_the_next_check_past_its_time():
    # N2 reached by count at minute 1: the next look is Coordenação's 60 minutes.
    result = due(20, minutes=1)
    assert levels(result) == [1, 2]
    assert result.next_check_at == OPENED + timedelta(minutes=60)


def test_stopped_paging_holds_tiers_but_not_the_push():
    result = due(30, minutes=90, paging_stopped=True)
    assert result.push
    assert levels(result) == []
    assert result.next_check_at is None


def test_levels_need_not_be_contiguous():
    policy = {
        "push_threshold": None,
        "tiers": [
            {"level": 1, "name": "a", "team_id": 1, "occurrences": 2, "minutes": None},
            {"level": 5, "name": "b", "team_id": 2, "occurrences": 4, "minutes": None},
        ],
    }
    result = evaluate(
        policy, occurrences=4, opened_at=OPENED, now=OPENED, escalation_level=0, pushed=False
    )
    assert [t["level"] for t in result.tiers] == [1, 5]
    assert not result.push


def test_maintenance_holds_the_push_and_the_tiers():
    result = due(30, minutes=90, paging_stopped=True, push_held=True)
    assert not result.push
    assert levels(result) == []


LIFECYCLE = POLICY | {
    "quiet_minutes": 10,
    "flap_minutes": 5,
    "repeat_minutes": 15,
    "ack_timeout_minutes": 30,
}


def timers(policy=LIFECYCLE, **state):
    state = {
        "last_occurrence_at": OPENED,
        "acknowledged_at": None,
        "last_paged_at": None,
        "escalation_level": 0,
        "paging_stopped": False,
    } | state
    return deadlines(policy, **state)


def test_quiet_period_counts_from_the_last_occurrence():
    assert timers(last_occurrence_at=OPENED + timedelta(minutes=3)).quiet == OPENED + timedelta(
        minutes=13
    )
    assert timers(POLICY).quiet is None


def test_ack_timeout_runs_only_while_acknowledged():
    assert timers().ack_timeout is None
    acked = OPENED + timedelta(minutes=7)
    assert timers(acknowledged_at=acked).ack_timeout == acked + timedelta(minutes=30)


def test_repeat_counts_from_the_last_page_while_paging_runs():
    paged = OPENED + timedelta(minutes=2)
    assert timers(last_paged_at=paged, escalation_level=1).repeat == paged + timedelta(minutes=15)
    assert timers(last_paged_at=paged, escalation_level=1, paging_stopped=True).repeat is None
    assert timers(last_paged_at=None, escalation_level=0).repeat is None
    assert timers(POLICY, last_paged_at=paged, escalation_level=1).repeat is None


def test_next_deadline_is_the_earliest_still_ahead():
    result = timers(last_paged_at=OPENED, escalation_level=1, acknowledged_at=OPENED)
    assert result.next_after(OPENED) == OPENED + timedelta(minutes=10)
    assert result.next_after(OPENED + timedelta(minutes=10)) == OPENED + timedelta(minutes=15)
    assert result.next_after(OPENED + timedelta(minutes=30)) is None


def test_flap_window_reopens_only_within_its_minutes():
    resolved = OPENED + timedelta(minutes=40)
    assert flap_reopens(LIFECYCLE, resolved_at=resolved, at=resolved + timedelta(minutes=5))
    assert not flap_reopens(
        LIFECYCLE, resolved_at=resolved, at=resolved + timedelta(minutes=5, seconds=1)
    )
    assert not flap_reopens(POLICY, resolved_at=resolved, at=resolved)
