"""Escalations: an action per escalation policy, a tier per rule and target."""

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from actions.models import Action, Tier, validate_tier_order
from importers import specs
from importers.run import Run, free
from importers.schedules import person_schedule_get
from notifications.models import Team

CODE_PREFIX = {"opsgenie": "og", "pagerduty": "pd"}
# What an imported tier is made of, compared to tell whether an action's tiers changed.
TIER_FIELDS = ("level", "name", "team", "target", "schedule", "after_minutes")


def _policy_team(run: Run, policy: specs.Policy, teams: dict) -> Team:
    if policy.team in teams:
        return teams[policy.team]
    key = f"policy:{policy.external_id}"
    team = run.mapped(Team, key)
    if team is None:
        team = Team.objects.create(
            slug=free(Team, "slug", slugify(policy.name), 100), name=policy.name[:200]
        )
        run.remember(team, key)
        run.report.create(f"team {team.name} ({team.slug}), for escalation {policy.name}")
    return team


def _wanted_tiers(run, policy, people, teams, schedules) -> list[dict]:
    default_team = _policy_team(run, policy, teams)
    rows = []
    for tier in policy.tiers:
        where = f"escalation {policy.name}, {tier.label} after {tier.after_minutes} min"
        schedule = None
        if tier.target == specs.TEAM:
            team = teams.get(tier.target_id, default_team)
        elif tier.target == specs.SCHEDULE:
            schedule = schedules.get(tier.target_id)
            if schedule is None:
                run.report.skip(f"{where}: the schedule was not imported")
                continue
            team = schedule.team or default_team
        else:
            user = people.get(tier.target_id)
            if user is None:
                run.report.skip(f"{where}: the person was not imported")
                continue
            schedule = person_schedule_get(run, tier.target_id, user)
            team = default_team
        rows.append(
            {
                "level": len(rows) + 1,
                "name": tier.label[:100],
                "team": team,
                "target": Tier.Target.TEAM if schedule is None else Tier.Target.ONCALL,
                "schedule": schedule,
                "after_minutes": tier.after_minutes,
            }
        )
    return rows


def policies_write(run: Run, policies, people: dict, teams: dict, schedules: dict) -> None:
    for policy in policies:
        action = run.mapped(Action, policy.external_id)
        created = action is None
        if created:
            code = free(Action, "code", f"{CODE_PREFIX[run.source]}-{policy.external_id}", 20)
            action = Action.objects.create(code=code, name=policy.name[:200])
            run.remember(action, policy.external_id)
            run.report.create(
                f"action {code} {action.name}: no trigger rule yet, so it opens no incident "
                "until the services and codes it covers are added"
            )
        elif action.name != policy.name[:200]:
            action.name = policy.name[:200]
            action.save(update_fields=["name", "updated_at"])
            run.report.change(f"action {action.code}: name {action.name}")
        wanted = _wanted_tiers(run, policy, people, teams, schedules)
        current = [
            {k: getattr(tier, k) for k in TIER_FIELDS} for tier in action.tiers.order_by("level")
        ]
        if current == wanted:
            continue
        tiers = [Tier(action=action, **row) for row in wanted]
        try:
            validate_tier_order(tiers)
            for tier in tiers:
                tier.full_clean(exclude=["action"], validate_unique=False)
        except ValidationError as error:
            run.report.skip(f"escalation {policy.name}: tiers refused: {' '.join(error.messages)}")
            continue
        action.tiers.all().delete()
        Tier.objects.bulk_create(tiers)
        steps = ", ".join(f"{t.name} at {t.after_minutes} min" for t in tiers) or "none"
        text = f"tiers of {action.code} {action.name}: {steps}"
        (run.report.create if created else run.report.change)(text)
