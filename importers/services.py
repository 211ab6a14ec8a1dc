"""Writes: an imported snapshot becomes people, contact methods, teams, schedules, actions, tiers.

One function, `snapshot_apply`, in one transaction. `plan=True` runs the very
same writes and rolls them back, so the plan cannot drift from what a run does.
Each object of the source is remembered in `ImportedObject`, so a second run
finds what the first made and changes only what differs (nothing, if the source
did not change). The importer adds and updates; it never deletes a person, a
team or a schedule (it rewrites the layers and tiers of what it imported).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from actions.models import Action, Tier, validate_tier_order
from importers import specs
from importers.models import ImportedObject
from notifications.models import Team
from notifications.validators import validate_time_zone
from oncall.models import ContactMethod, Layer, LayerParticipant, Override, Restriction, Schedule
from oncall.services import schedule_shifts_refresh

# The first handoff of a one-person schedule made for a tier that pages a person.
ALWAYS_FROM = datetime(2020, 1, 6, tzinfo=UTC)
CODE_PREFIX = {"opsgenie": "og", "pagerduty": "pd"}
# What an imported tier is made of, compared to tell whether an action's tiers changed.
TIER_FIELDS = ("level", "name", "team", "target", "schedule", "after_minutes")


@dataclass
class Report:
    """What a run did (or, planned, would do): one line per change, counts for the summary."""

    lines: list[str] = field(default_factory=list)
    created: int = 0
    changed: int = 0
    skipped: int = 0

    def create(self, text: str) -> None:
        self.lines.append(f"create  {text}")
        self.created += 1

    def change(self, text: str) -> None:
        self.lines.append(f"change  {text}")
        self.changed += 1

    def skip(self, text: str) -> None:
        self.lines.append(f"skip    {text}")
        self.skipped += 1

    def note(self, text: str) -> None:
        self.lines.append(f"note    {text}")


@dataclass
class _Run:
    source: str
    report: Report
    now: datetime

    def mapped(self, model, external_id: str):
        """Return the row an object of the source became, or None (never, or deleted since)."""
        row = ImportedObject.objects.filter(
            source=self.source,
            content_type=ContentType.objects.get_for_model(model),
            external_id=external_id,
        ).first()
        return model.objects.filter(pk=row.object_id).first() if row else None

    def remember(self, obj, external_id: str) -> None:
        ImportedObject.objects.update_or_create(
            source=self.source,
            content_type=ContentType.objects.get_for_model(type(obj)),
            external_id=external_id,
            defaults={"object_id": str(obj.pk)},
        )


def snapshot_apply(
    snapshot: specs.Snapshot, *, plan: bool = False, now: datetime | None = None
) -> Report:
    """Write a snapshot into cxhub (or, with `plan`, say what that would do); return the report."""
    run = _Run(snapshot.source, Report(), now or timezone.now())
    with transaction.atomic():
        people = _people(run, snapshot.people)
        teams = _teams(run, snapshot.teams)
        schedules = _schedules(run, snapshot.schedules, people, teams)
        _policies(run, snapshot.policies, people, teams, schedules)
        for text in snapshot.skipped:
            run.report.skip(text)
        if plan:
            transaction.set_rollback(True)
    return run.report


def _free(model, field_name: str, wanted: str, limit: int) -> str:
    """Return `wanted` (cut to `limit`), or it with -2, -3 ... if a row already has it."""
    wanted = wanted[:limit] or "x"
    candidate, number = wanted, 1
    while model.objects.filter(**{field_name: candidate}).exists():
        number += 1
        suffix = f"-{number}"
        candidate = wanted[: limit - len(suffix)] + suffix
    return candidate


def _people(run: _Run, people) -> dict:
    User = get_user_model()
    found = {}
    for person in people:
        if not person.email:
            run.report.skip(f"person {person.external_id}: no e-mail, so nobody to match")
            continue
        first, _sep, last = person.full_name.strip().partition(" ")
        names = (first[:150], last[:150])
        user = run.mapped(User, person.external_id)
        if user is None:
            user = User.objects.filter(email__iexact=person.email).order_by("pk").first()
            if user is not None:
                run.report.change(f"person {person.email}: matched the existing user {user}")
                if person.full_name and (user.first_name, user.last_name) != names:
                    user.first_name, user.last_name = names
                    user.save(update_fields=["first_name", "last_name"])
            else:
                user = User(
                    username=_free(User, "username", person.email.split("@")[0].lower(), 150),
                    email=person.email,
                    first_name=names[0],
                    last_name=names[1],
                )
                # They are paged, not logged in: a password or SSO comes later, by hand.
                user.set_unusable_password()
                user.save()
                run.report.create(f"person {user.username} <{person.email}>")
            run.remember(user, person.external_id)
        elif person.full_name and (user.first_name, user.last_name) != names:
            user.first_name, user.last_name = names
            user.save(update_fields=["first_name", "last_name"])
            run.report.change(f"person {user.username}: name {person.full_name}")
        found[person.external_id] = user
        for contact in person.contacts:
            _contact(run, user, contact)
    return found


def _contact(run: _Run, user, contact: specs.Contact) -> None:
    method = run.mapped(ContactMethod, contact.external_id)
    wanted = {
        "user": user,
        "kind": contact.kind,
        "address": contact.address,
        "position": contact.position,
        "delay_minutes": contact.delay_minutes,
        "enabled": contact.enabled,
    }
    if method is not None and all(getattr(method, k) == v for k, v in wanted.items()):
        return
    created = method is None
    method = method or ContactMethod()
    for key, value in wanted.items():
        setattr(method, key, value)
    try:
        method.full_clean()
    except ValidationError as error:
        run.report.skip(f"{user}: {contact.kind} {contact.address}: {' '.join(error.messages)}")
        return
    method.save()
    run.remember(method, contact.external_id)
    text = (
        f"contact method of {user}: {contact.kind} "
        f"{method.address if contact.kind == 'email' else method.masked_address} "
        f"after {contact.delay_minutes} min{'' if contact.enabled else ' (disabled)'}"
    )
    (run.report.create if created else run.report.change)(text)


def _teams(run: _Run, teams) -> dict:
    found = {}
    for spec in teams:
        team = run.mapped(Team, spec.external_id)
        if team is None:
            team = Team.objects.filter(name__iexact=spec.name).first()
            if team is not None:
                run.report.change(f"team {spec.name}: matched the existing team {team.slug}")
            else:
                team = Team.objects.create(
                    slug=_free(Team, "slug", slugify(spec.name), 100), name=spec.name[:200]
                )
                run.report.create(f"team {team.name} ({team.slug})")
                run.report.note(
                    f"team {team.name} has no channel: add one (admin → Teams) for the tiers "
                    "that page it and for the nobody-on-call fallback"
                )
                if spec.members:
                    run.report.note(
                        f"team {team.name}: {len(spec.members)} member(s) imported as people; "
                        "cxhub teams keep channels, schedules say who is on call"
                    )
            run.remember(team, spec.external_id)
        elif team.name != spec.name[:200]:
            team.name = spec.name[:200]
            team.save(update_fields=["name"])
            run.report.change(f"team {team.slug}: name {team.name}")
        found[spec.external_id] = team
    return found


def _layer_rows(schedule: Schedule) -> list[tuple]:
    rows = []
    for layer in schedule.layers.prefetch_related("members", "restrictions").order_by("order"):
        members = sorted(layer.members.all(), key=lambda m: (m.position, m.pk))
        rows.append(
            (
                layer.order,
                layer.name,
                layer.rotation_type,
                layer.rotation_length,
                layer.start,
                layer.end,
                tuple(m.user_id for m in members),
                tuple(
                    sorted(
                        (r.kind, r.start_day, r.start_time, r.duration)
                        for r in layer.restrictions.all()
                    )
                ),
            )
        )
    return rows


def _wanted_layers(run: _Run, spec: specs.Schedule, people: dict) -> list[tuple]:
    rows = []
    for layer in spec.layers:
        users = [people[p].pk for p in layer.participants if p in people]
        if len(users) < len(layer.participants):
            run.report.skip(
                f"schedule {spec.name}, layer {layer.name}: "
                f"{len(layer.participants) - len(users)} participant(s) without a person left out"
            )
        if not users:
            continue
        rows.append(
            (
                len(rows) + 1,
                layer.name,
                layer.rotation,
                layer.length,
                layer.start,
                layer.end,
                tuple(users),
                tuple(
                    sorted(
                        (r.kind, r.start_day if r.kind == "week" else 0, r.start_time, r.duration)
                        for r in layer.restrictions
                    )
                ),
            )
        )
    return rows


def _write_layers(schedule: Schedule, rows: list[tuple]) -> None:
    schedule.layers.all().delete()
    for order, name, rotation, length, start, end, users, restrictions in rows:
        layer = Layer(
            schedule=schedule,
            order=order,
            name=name,
            rotation_type=rotation,
            rotation_length=length,
            start=start,
            end=end,
        )
        layer.full_clean(exclude=["schedule"])
        layer.save()
        LayerParticipant.objects.bulk_create(
            LayerParticipant(layer=layer, user_id=user, position=i) for i, user in enumerate(users)
        )
        for kind, day, start_time, duration in restrictions:
            restriction = Restriction(
                layer=layer, kind=kind, start_day=day, start_time=start_time, duration=duration
            )
            restriction.full_clean(exclude=["layer"])
            restriction.save()


def _schedules(run: _Run, schedules, people: dict, teams: dict) -> dict:
    found = {}
    for spec in schedules:
        try:
            validate_time_zone(spec.time_zone)
        except ValidationError:
            run.report.skip(f"schedule {spec.name}: unknown time zone {spec.time_zone!r}")
            continue
        team = teams.get(spec.team)
        schedule = run.mapped(Schedule, spec.external_id)
        touched = False
        if schedule is None:
            if Schedule.objects.filter(name=spec.name[:200]).exists():
                run.report.skip(
                    f"schedule {spec.name}: a schedule of that name exists and was not imported "
                    f"from {run.source}; rename it and import again"
                )
                continue
            schedule = Schedule.objects.create(
                name=spec.name[:200], time_zone=spec.time_zone, team=team
            )
            run.remember(schedule, spec.external_id)
            run.report.create(f"schedule {schedule.name} ({schedule.time_zone})")
            touched = True
        elif (schedule.name, schedule.time_zone, schedule.team_id) != (
            spec.name[:200],
            spec.time_zone,
            team.pk if team else None,
        ):
            schedule.name, schedule.time_zone, schedule.team = spec.name[:200], spec.time_zone, team
            schedule.save(update_fields=["name", "time_zone", "team", "updated_at"])
            run.report.change(f"schedule {schedule.name}: name, time zone or team")
            touched = True
        wanted = _wanted_layers(run, spec, people)
        if _layer_rows(schedule) != wanted:
            try:
                _write_layers(schedule, wanted)
            except ValidationError as error:
                run.report.skip(f"schedule {spec.name}: layers refused: {' '.join(error.messages)}")
                continue
            restrictions = sum(len(row[7]) for row in wanted)
            text = (
                f"layers of {schedule.name}: {len(wanted)} layer(s), {restrictions} restriction(s)"
            )
            (run.report.create if touched else run.report.change)(text)
            touched = True
        touched |= _overrides(run, schedule, spec, people)
        if touched:
            schedule_shifts_refresh(schedule.pk, now=run.now)
        found[spec.external_id] = schedule
    return found


def _overrides(run: _Run, schedule: Schedule, spec: specs.Schedule, people: dict) -> bool:
    touched = False
    for item in spec.overrides:
        user = people.get(item.person)
        if item.end <= run.now or user is None:
            continue
        key = f"{spec.external_id}:{item.external_id}"
        override = run.mapped(Override, key)
        if (
            override is not None
            and (override.schedule_id, override.user_id)
            == (
                schedule.pk,
                user.pk,
            )
            and (override.start, override.end) == (item.start, item.end)
        ):
            continue
        created = override is None
        override = override or Override()
        override.schedule, override.user, override.start, override.end = (
            schedule,
            user,
            item.start,
            item.end,
        )
        try:
            override.full_clean()
        except ValidationError as error:
            run.report.skip(f"override {key}: {' '.join(error.messages)}")
            continue
        override.save()
        run.remember(override, key)
        zone = ZoneInfo(schedule.time_zone)
        text = (
            f"override on {schedule.name}: {user} {item.start.astimezone(zone):%Y-%m-%d %H:%M}"
            f" - {item.end.astimezone(zone):%Y-%m-%d %H:%M} ({schedule.time_zone})"
        )
        (run.report.create if created else run.report.change)(text)
        touched = True
    return touched


def _person_schedule(run: _Run, person_id: str, user) -> Schedule:
    """Return the always-on schedule of one person, for a tier that pages them directly."""
    key = f"person:{person_id}"
    schedule = run.mapped(Schedule, key)
    if schedule is not None:
        return schedule
    name = _free(Schedule, "name", f"{user.get_full_name() or user.username} (person)", 200)
    schedule = Schedule.objects.create(name=name, time_zone="UTC")
    layer = Layer.objects.create(
        schedule=schedule, order=1, name=str(user), rotation_type="weekly", start=ALWAYS_FROM
    )
    LayerParticipant.objects.create(layer=layer, user=user, position=0)
    schedule_shifts_refresh(schedule.pk, now=run.now)
    run.remember(schedule, key)
    run.report.create(f"schedule {name}: always {user}, for the tiers that page them")
    return schedule


def _policy_team(run: _Run, policy: specs.Policy, teams: dict) -> Team:
    if policy.team in teams:
        return teams[policy.team]
    key = f"policy:{policy.external_id}"
    team = run.mapped(Team, key)
    if team is None:
        team = Team.objects.create(
            slug=_free(Team, "slug", slugify(policy.name), 100), name=policy.name[:200]
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
            schedule = _person_schedule(run, tier.target_id, user)
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


def _policies(run: _Run, policies, people: dict, teams: dict, schedules: dict) -> None:
    for policy in policies:
        action = run.mapped(Action, policy.external_id)
        created = action is None
        if created:
            code = _free(Action, "code", f"{CODE_PREFIX[run.source]}-{policy.external_id}", 20)
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
