"""What is due for an incident: a pure function of its policy, counts and clock.

The policy is the snapshot an incident keeps from its action (see `policy_of`):
{"push_threshold": 5 or None, "tiers": [{"level", "name", "team_id",
"occurrences", "minutes"}, ...], "quiet_minutes", "flap_minutes", "repeat_minutes",
"ack_timeout_minutes" (each None when the action does not use it)}.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from actions.audiences import push_policy_of


@dataclass(frozen=True)
class Due:
    push: bool
    tiers: tuple[dict, ...]
    next_check_at: datetime | None


def tier_reached(tier: dict, *, occurrences: int, elapsed: timedelta) -> bool:
    """Return whether a tier's count or time threshold has been crossed."""
    by_count = tier["occurrences"] is not None and occurrences >= tier["occurrences"]
    by_time = tier["minutes"] is not None and elapsed >= timedelta(minutes=tier["minutes"])
    return by_count or by_time


def evaluate(
    policy: dict,
    *,
    occurrences: int,
    opened_at: datetime,
    now: datetime,
    escalation_level: int,
    pushed: bool,
    paging_stopped: bool = False,
    push_held: bool = False,
) -> Due:
    """Return the push and tier pages due now, and when time next matters.

    Reaching a tier makes every lower tier not yet paged due too, so escalation
    never skips a level. `paging_stopped` (acknowledged, silenced) holds the tiers;
    `push_held` (maintenance) holds the push too.
    """
    threshold = policy.get("push_threshold")
    push = bool(threshold) and not pushed and not push_held and occurrences >= threshold
    if paging_stopped:
        return Due(push=push, tiers=(), next_check_at=None)

    tiers = sorted(policy.get("tiers", []), key=lambda t: t["level"])
    elapsed = now - opened_at
    reached = max(
        (t["level"] for t in tiers if tier_reached(t, occurrences=occurrences, elapsed=elapsed)),
        default=0,
    )
    due = tuple(t for t in tiers if escalation_level < t["level"] <= reached)
    top = max(escalation_level, reached)
    pending_times = [
        opened_at + timedelta(minutes=t["minutes"])
        for t in tiers
        if t["level"] > top and t["minutes"] is not None
    ]
    return Due(push=push, tiers=due, next_check_at=min(pending_times, default=None))


@dataclass(frozen=True)
class Deadlines:
    """When each lifecycle timer of an incident runs out (None: not running)."""

    quiet: datetime | None
    ack_timeout: datetime | None
    repeat: datetime | None

    def next_after(self, now: datetime) -> datetime | None:
        """Return the earliest deadline still ahead of `now`."""
        return min(
            (d for d in (self.quiet, self.ack_timeout, self.repeat) if d and d > now), default=None
        )


def _after(start: datetime | None, minutes: int | None) -> datetime | None:
    return start + timedelta(minutes=minutes) if start and minutes else None


def deadlines(
    policy: dict,
    *,
    last_occurrence_at: datetime,
    acknowledged_at: datetime | None,
    last_paged_at: datetime | None,
    escalation_level: int,
    paging_stopped: bool,
) -> Deadlines:
    """Return when the quiet period, the acknowledgement and the next repeat run out.

    The quiet period counts from the last occurrence, whatever the status; the
    acknowledgement timeout from the acknowledgement (`acknowledged_at` is None
    unless the incident is acknowledged now); repeats of the highest paged tier
    from the last page, only while paging is not stopped (acknowledged, silenced,
    maintenance).
    """
    repeat_running = not paging_stopped and escalation_level > 0
    return Deadlines(
        quiet=_after(last_occurrence_at, policy.get("quiet_minutes")),
        ack_timeout=_after(acknowledged_at, policy.get("ack_timeout_minutes")),
        repeat=_after(last_paged_at, policy.get("repeat_minutes")) if repeat_running else None,
    )


def flap_reopens(policy: dict, *, resolved_at: datetime, at: datetime) -> bool:
    """Return whether an occurrence at `at` falls in the flap window after resolution."""
    minutes = policy.get("flap_minutes")
    return bool(minutes) and at <= resolved_at + timedelta(minutes=minutes)


def policy_of(action) -> dict:
    """Freeze an action's push threshold and tiers into an incident's policy."""
    return {
        "push_threshold": action.push_threshold,
        "push_message": action.push_message,
        "all_clear_message": action.all_clear_message,
        "quiet_minutes": action.quiet_minutes,
        "flap_minutes": action.flap_minutes,
        "repeat_minutes": action.repeat_minutes,
        "ack_timeout_minutes": action.ack_timeout_minutes,
        "tiers": [
            {
                "level": tier.level,
                "name": tier.name,
                "team_id": tier.team_id,
                "occurrences": tier.after_occurrences,
                "minutes": tier.after_minutes,
            }
            for tier in action.tiers.order_by("level")
        ],
        # Audience, provider and per-language texts: frozen like the tiers.
        **push_policy_of(action),
    }
