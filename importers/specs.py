"""What an importer read, in cxhub's words, whichever tool it came from.

`importers.opsgenie` and `importers.pagerduty` turn their API's JSON into a
`Snapshot` (pure functions, tested without a network); `importers.services`
writes a snapshot into people, schedules, teams and tiers. Ids are the source's
own, so the snapshot says "the person P1" and the writer finds or makes them.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

# Tier targets.
SCHEDULE, TEAM, PERSON = "schedule", "team", "person"


@dataclass(frozen=True)
class Contact:
    external_id: str
    kind: str  # "sms" or "email": what cxhub can send
    address: str
    position: int
    delay_minutes: int = 0
    enabled: bool = True


@dataclass(frozen=True)
class Person:
    external_id: str
    email: str
    full_name: str = ""
    contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True)
class Team:
    external_id: str
    name: str
    members: tuple[str, ...] = ()  # people's external ids


@dataclass(frozen=True)
class Restriction:
    """Like `oncall.final.Restriction`: `day` (every day) or `week` (from `start_day`, 0 Monday)."""

    kind: str
    start_time: time
    duration: timedelta
    start_day: int = 0


@dataclass(frozen=True)
class Layer:
    name: str
    rotation: str  # hourly, daily, weekly or custom (then `length`)
    start: datetime
    participants: tuple[str, ...]  # people's external ids, in turn order
    length: timedelta | None = None
    end: datetime | None = None
    restrictions: tuple[Restriction, ...] = ()


@dataclass(frozen=True)
class Override:
    external_id: str
    person: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Schedule:
    external_id: str
    name: str
    time_zone: str
    team: str | None = None  # a team's external id
    layers: tuple[Layer, ...] = ()  # lowest first: a later layer wins where both have someone
    overrides: tuple[Override, ...] = ()
    # Opsgenie: everyone on call in any rotation is on call (no layer wins).
    layers_add_up: bool = False


@dataclass(frozen=True)
class Tier:
    """One step of an escalation: page `target` (a schedule's on-call, a team, a person)."""

    target: str  # SCHEDULE, TEAM or PERSON
    target_id: str
    after_minutes: int
    label: str


@dataclass(frozen=True)
class Policy:
    external_id: str
    name: str
    team: str | None = None
    tiers: tuple[Tier, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """Everything read from one account, and what could not be carried over (`skipped`)."""

    source: str
    people: tuple[Person, ...] = ()
    teams: tuple[Team, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    policies: tuple[Policy, ...] = ()
    skipped: tuple[str, ...] = field(default=())


def rotation_of(unit: str, count: int) -> tuple[str, timedelta | None]:
    """Return cxhub's rotation (and custom length) for `count` hours, days or weeks."""
    count = max(int(count or 1), 1)
    if count == 1:
        return {"hours": "hourly", "days": "daily", "weeks": "weekly"}[unit], None
    return "custom", timedelta(**{unit: count})


def rotation_of_seconds(seconds: int) -> tuple[str, timedelta | None]:
    """Return cxhub's rotation for a turn of `seconds` (PagerDuty's turn length)."""
    length = timedelta(seconds=int(seconds))
    for unit, rotation in (
        (timedelta(hours=1), "hourly"),
        (timedelta(days=1), "daily"),
        (timedelta(weeks=1), "weekly"),
    ):
        if length == unit:
            return rotation, None
    return "custom", length
