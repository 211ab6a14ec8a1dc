"""Dry run: replay recorded triggers against an action's policy, writing nothing.

The same pure `evaluate` that drives real incidents decides, at each recorded
occurrence and at each time threshold in between, what would have been pushed
and paged. Past incidents were resolved by hand or by monitoring; here a
simulated incident ends after `quiet` with no occurrence, and nobody
acknowledges (so paging runs its full course: the worst case).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from incidents.lifecycle.escalation import evaluate


@dataclass
class SimulatedPage:
    level: int
    name: str
    at: datetime
    occurrences: int


@dataclass
class SimulatedIncident:
    opened_at: datetime
    last_occurrence_at: datetime
    ended_at: datetime | None = None
    occurrences: int = 0
    push_at: datetime | None = None
    pages: list[SimulatedPage] = field(default_factory=list)


def replay(
    policy: dict,
    occurrence_times: Iterable[datetime],
    *,
    quiet: timedelta,
    until: datetime,
) -> list[SimulatedIncident]:
    """Return the incidents, pushes and pages a policy would have caused.

    `occurrence_times` are the moments of the requests the action covers, in
    order (one request is one occurrence, as in real counting).
    """
    incidents: list[SimulatedIncident] = []
    current: SimulatedIncident | None = None

    def step(incident: SimulatedIncident, now: datetime) -> datetime | None:
        due = evaluate(
            policy,
            occurrences=incident.occurrences,
            opened_at=incident.opened_at,
            now=now,
            escalation_level=max((p.level for p in incident.pages), default=0),
            pushed=incident.push_at is not None,
        )
        if due.push:
            incident.push_at = now
        incident.pages.extend(
            SimulatedPage(t["level"], t["name"], now, incident.occurrences) for t in due.tiers
        )
        return due.next_check_at

    def run_clock(incident: SimulatedIncident, next_check: datetime | None, to: datetime):
        # Time tiers fire with no new occurrence, as the beat sweep makes them.
        while next_check is not None and next_check <= to:
            next_check = step(incident, next_check)
        return next_check

    next_check = None
    for at in occurrence_times:
        if current is not None:
            end = current.last_occurrence_at + quiet
            next_check = run_clock(current, next_check, min(at, end))
            if at >= end:
                current.ended_at = end
                current = None
        if current is None:
            current = SimulatedIncident(opened_at=at, last_occurrence_at=at)
            incidents.append(current)
        current.occurrences += 1
        current.last_occurrence_at = at
        next_check = step(current, at)
    if current is not None:
        end = current.last_occurrence_at + quiet
        run_clock(current, next_check, min(until, end))
        current.ended_at = end if end <= until else None
    return incidents
