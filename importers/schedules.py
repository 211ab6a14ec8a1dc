"""Schedules: their layers and restrictions (rewritten when the source differs) and overrides."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from importers import specs
from importers.models import ImportedObject
from importers.run import Run, free
from notifications.validators import validate_time_zone
from oncall.models import Layer, LayerParticipant, Override, Restriction, Schedule
from oncall.selectors import person_name
from oncall.services import schedule_shifts_refresh

# The first handoff of a one-person schedule made for a tier that pages a person.
ALWAYS_FROM = datetime(2020, 1, 6, tzinfo=UTC)


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


def _wanted_layers(run: Run, spec: specs.Schedule, people: dict) -> list[tuple]:
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


def schedules_write(run: Run, schedules, people: dict, teams: dict) -> dict:
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
                name=spec.name[:200],
                time_zone=spec.time_zone,
                team=team,
                layers_add_up=spec.layers_add_up,
            )
            run.remember(schedule, spec.external_id)
            run.report.create(f"schedule {schedule.name} ({schedule.time_zone})")
            touched = True
        elif (schedule.name, schedule.time_zone, schedule.team_id, schedule.layers_add_up) != (
            spec.name[:200],
            spec.time_zone,
            team.pk if team else None,
            spec.layers_add_up,
        ):
            schedule.name, schedule.time_zone, schedule.team = spec.name[:200], spec.time_zone, team
            schedule.layers_add_up = spec.layers_add_up
            schedule.save(
                update_fields=["name", "time_zone", "team", "layers_add_up", "updated_at"]
            )
            run.report.change(f"schedule {schedule.name}: name, time zone, team or layering")
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


def _overrides(run: Run, schedule: Schedule, spec: specs.Schedule, people: dict) -> bool:
    """Create or update the overrides still to come; remove those the source cancelled."""
    touched = False
    zone = ZoneInfo(schedule.time_zone)
    seen = set()
    for item in spec.overrides:
        user = people.get(item.person)
        if item.end <= run.now or user is None:
            continue
        key = f"{spec.external_id}:{item.external_id}"
        seen.add(key)
        override = run.mapped(Override, key)
        wanted = (schedule.pk, user.pk, item.start, item.end)
        if override is not None and wanted == (
            override.schedule_id,
            override.user_id,
            override.start,
            override.end,
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
        text = (
            f"override on {schedule.name}: {user} {item.start.astimezone(zone):%Y-%m-%d %H:%M}"
            f" - {item.end.astimezone(zone):%Y-%m-%d %H:%M} ({schedule.time_zone})"
        )
        (run.report.create if created else run.report.change)(text)
        touched = True
    # An override cancelled in the source must not keep someone on call here; ended
    # ones stay as the record of who was.
    gone = ImportedObject.objects.filter(
        source=run.source,
        content_type=ContentType.objects.get_for_model(Override),
        external_id__startswith=f"{spec.external_id}:",
    ).exclude(external_id__in=seen)
    for row in gone:
        override = Override.objects.filter(pk=row.object_id, end__gt=run.now).first()
        if override is None:
            continue
        run.report.change(
            f"override on {schedule.name}: {override.user} "
            f"{override.start.astimezone(zone):%Y-%m-%d %H:%M} removed (cancelled in "
            f"{run.source})"
        )
        override.delete()
        row.delete()
        touched = True
    return touched


def person_schedule_get(run: Run, person_id: str, user) -> Schedule:
    """Return the always-on schedule of one person, for a tier that pages them directly."""
    key = f"person:{person_id}"
    schedule = run.mapped(Schedule, key)
    if schedule is not None:
        return schedule
    name = free(Schedule, "name", f"{person_name(user)} (person)", 200)
    schedule = Schedule.objects.create(name=name, time_zone="UTC")
    layer = Layer.objects.create(
        schedule=schedule, order=1, name=str(user), rotation_type="weekly", start=ALWAYS_FROM
    )
    LayerParticipant.objects.create(layer=layer, user=user, position=0)
    schedule_shifts_refresh(schedule.pk, now=run.now)
    run.remember(schedule, key)
    run.report.create(f"schedule {name}: always {user}, for the tiers that page them")
    return schedule
