"""The policy an incident freezes from its action when it opens, as a type.

Stored on `Incident.policy` as JSON (`to_json`), read back with `from_json`: the
stored form is the one incidents have always kept, so old rows read as they are.
A key an old row lacks reads as "not used" (None, empty), except the audience and
texts, which `incident_policy` takes from the live action, as before they froze.
"""

from dataclasses import dataclass, field, replace

from actions import approval_rules
from actions.audiences import audience_of, texts_of


@dataclass(frozen=True)
class Tier:
    """One escalation level: pages `team_id` at `occurrences` or after `minutes`."""

    level: int
    name: str
    team_id: int | None
    occurrences: int | None
    minutes: int | None


@dataclass(frozen=True)
class Approval:
    """Four-eyes rules of a mass push: who set the action up may not approve it alone."""

    threshold: int | None = None  # customers; None: CXHUB_PUSH_APPROVAL_THRESHOLD
    timeout_minutes: int | None = None
    timeout_sends: bool = False
    set_up_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    """Thresholds, tiers, timers and the push's audience, texts and safeguards."""

    push_threshold: int | None = None
    push_message: str = ""
    all_clear_message: str = ""
    quiet_minutes: int | None = None
    flap_minutes: int | None = None
    repeat_minutes: int | None = None
    ack_timeout_minutes: int | None = None
    tiers: tuple[Tier, ...] = ()
    provider: str = ""  # "": CXHUB_PUSH_PROVIDER
    audience: dict | None = None  # plain filter values, see actions.audiences.audience_of
    texts: dict | None = None  # {purpose: {"default": text, locale: text}}
    approval: Approval = field(default_factory=Approval)
    critical: bool = False  # sends in the customers' quiet hours
    fallback: str = ""  # "", "sms" or "email"

    @classmethod
    def of(cls, action) -> "Policy":
        """Freeze an action's thresholds, tiers, timers and push settings."""
        return cls(
            push_threshold=action.push_threshold,
            push_message=action.push_message,
            all_clear_message=action.all_clear_message,
            quiet_minutes=action.quiet_minutes,
            flap_minutes=action.flap_minutes,
            repeat_minutes=action.repeat_minutes,
            ack_timeout_minutes=action.ack_timeout_minutes,
            tiers=tuple(
                Tier(
                    level=tier.level,
                    name=tier.name,
                    team_id=tier.team_id,
                    occurrences=tier.after_occurrences,
                    minutes=tier.after_minutes,
                )
                for tier in action.tiers.order_by("level")
            ),
            provider=action.push_provider,
            audience=audience_of(action),
            texts=texts_of(action),
            # Four-eyes, frozen as the bank allows it: who may not approve alone is
            # whoever changed the action since a push of it was last approved.
            approval=Approval(
                threshold=approval_rules.approval_threshold(action.approval_threshold),
                timeout_minutes=action.approval_timeout_minutes,
                timeout_sends=approval_rules.timeout_sends(action.approval_timeout_sends),
                set_up_by=tuple(approval_rules.authors(action)),
            ),
            critical=action.push_critical,
            fallback=action.push_fallback,
        )

    @classmethod
    def from_json(cls, data: dict) -> "Policy":
        """Read a stored policy; a key it lacks reads as not used."""
        approval = data.get("approval") or {}
        return cls(
            push_threshold=data.get("push_threshold"),
            push_message=data.get("push_message") or "",
            all_clear_message=data.get("all_clear_message") or "",
            quiet_minutes=data.get("quiet_minutes"),
            flap_minutes=data.get("flap_minutes"),
            repeat_minutes=data.get("repeat_minutes"),
            ack_timeout_minutes=data.get("ack_timeout_minutes"),
            tiers=tuple(Tier(**tier) for tier in data.get("tiers") or ()),
            provider=data.get("provider") or "",
            audience=data.get("audience") or None,
            texts=data.get("texts") or None,
            approval=Approval(
                threshold=approval.get("threshold"),
                timeout_minutes=approval.get("timeout_minutes"),
                timeout_sends=bool(approval.get("timeout_sends")),
                set_up_by=tuple(approval.get("set_up_by") or ()),
            ),
            critical=bool(data.get("critical")),
            fallback=data.get("fallback") or "",
        )

    def to_json(self) -> dict:
        """Return the stored form: the keys and nesting incidents have always kept."""
        return {
            "push_threshold": self.push_threshold,
            "push_message": self.push_message,
            "all_clear_message": self.all_clear_message,
            "quiet_minutes": self.quiet_minutes,
            "flap_minutes": self.flap_minutes,
            "repeat_minutes": self.repeat_minutes,
            "ack_timeout_minutes": self.ack_timeout_minutes,
            "tiers": [
                {
                    "level": t.level,
                    "name": t.name,
                    "team_id": t.team_id,
                    "occurrences": t.occurrences,
                    "minutes": t.minutes,
                }
                for t in self.tiers
            ],
            "provider": self.provider,
            "audience": self.audience,
            "texts": self.texts,
            "approval": {
                "threshold": self.approval.threshold,
                "timeout_minutes": self.approval.timeout_minutes,
                "timeout_sends": self.approval.timeout_sends,
                "set_up_by": list(self.approval.set_up_by),
            },
            "critical": self.critical,
            "fallback": self.fallback,
        }

    @property
    def service_ids(self) -> list:
        """Return the audience's services (none when it froze no audience)."""
        return list((self.audience or {}).get("service_ids") or [])

    def tier(self, level: int) -> Tier | None:
        """Return the tier of `level`, or None."""
        return next((t for t in self.tiers if t.level == level), None)


def incident_policy(incident) -> Policy:
    """Return the incident's frozen policy, its audience and texts else the live action's.

    Incidents opened before the audience and texts were frozen have none stored.
    """
    policy = Policy.from_json(incident.policy)
    if policy.audience is None or policy.texts is None:
        policy = replace(
            policy,
            audience=policy.audience or audience_of(incident.action),
            texts=policy.texts or texts_of(incident.action),
        )
    return policy
