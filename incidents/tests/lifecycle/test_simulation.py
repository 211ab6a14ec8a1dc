from datetime import UTC, datetime, timedelta

from actions.rule_codes import covers
from incidents.lifecycle.simulation import replay

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
POLICY = {
    "push_threshold": 5,
    "tiers": [
        {"level": 1, "name": "N1", "team_id": 1, "occurrences": 10, "minutes": 5},
        {"level": 2, "name": "N2", "team_id": 2, "occurrences": 20, "minutes": 20},
        {"level": 3, "name": "Coord", "team_id": 3, "occurrences": None, "minutes": 60},
    ],
}
QUIET = timedelta(minutes=30)


def minutes(*values):
    return [T0 + timedelta(minutes=v) for v in values]


def test_rules_cover_exact_codes_classes_and_any():
    rules = {("login", "503"), ("pix", "5xx"), ("boleto", "*")}
    assert covers(rules, "login", "503")
    assert not covers(rules, "login", "404")
    assert covers(rules, "pix", "502")
    assert covers(rules, "boleto", "timeout")


def test_push_and_pages_fire_at_their_counts():
    times = [T0 + timedelta(seconds=10 * i) for i in range(12)]
    [incident] = replay(POLICY, times, quiet=QUIET, until=T0 + timedelta(minutes=3))
    assert incident.occurrences == 12
    assert incident.push_at == times[4]
    assert [(p.level, p.at, p.occurrences) for p in incident.pages] == [(1, times[9], 10)]
    assert incident.ended_at is None  # still within the quiet period at `until`


def test_time_tiers_fire_between_occurrences_and_a_quiet_gap_starts_a_new_incident():
    times = minutes(0, 1, 2, 50, 200)
    first, second, third = replay(POLICY, times, quiet=QUIET, until=T0 + timedelta(days=1))
    # 50 comes more than 30 quiet minutes after 2, so it opens a new incident; so does 200.
    assert first.occurrences == 3 and first.push_at is None
    assert [(p.level, p.at) for p in first.pages] == [
        (1, T0 + timedelta(minutes=5)),
        (2, T0 + timedelta(minutes=20)),
    ]
    assert first.ended_at == T0 + timedelta(minutes=32)
    assert second.opened_at == T0 + timedelta(minutes=50)
    assert [p.level for p in second.pages] == [1, 2]
    assert second.ended_at == T0 + timedelta(minutes=80)
    assert third.opened_at == T0 + timedelta(minutes=200)


def test_a_long_incident_reaches_the_last_tier_once():
    times = [T0 + timedelta(minutes=m) for m in range(0, 90, 10)]
    [incident] = replay(POLICY, times, quiet=QUIET, until=T0 + timedelta(hours=3))
    assert [p.level for p in incident.pages] == [1, 2, 3]
    assert incident.pages[-1].at == T0 + timedelta(minutes=60)
    assert incident.push_at == T0 + timedelta(minutes=40)


def test_no_occurrences_no_incidents():
    assert replay(POLICY, [], quiet=QUIET, until=T0) == []
