from datetime import UTC, datetime, timedelta

from incidents.escalation import evaluate

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
