"""Reads: who is on call, a schedule's shifts and gaps, a person's next shifts, calendar links."""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from apikeys.models import hash_key
from oncall import final, specs
from oncall.models import CalendarToken, ContactMethod, Schedule, Shift


def person_name(user) -> str:
    """Return how cxhub names a person to people: their full name, else their username."""
    return user.get_full_name() or user.get_username()


GAP_WINDOW = timedelta(weeks=4)
# The smallest range the final schedule is computed over to answer "who at t".
_INSTANT = timedelta(microseconds=1)


def materialized(schedule: Schedule, start: datetime, end: datetime) -> bool:
    """Return whether [start, end) lies within the schedule's materialized shifts."""
    return bool(
        schedule.shifts_from
        and schedule.shifts_until
        and schedule.shifts_from <= start
        and end <= schedule.shifts_until
    )


def oncall_at(schedule: Schedule, at: datetime) -> list:
    """Return the people on call at `at`, from the Shift table: one indexed query.

    Outside the materialized horizon (a moment far ahead, a schedule not refreshed
    yet) the final schedule is computed for that instant instead.
    """
    if materialized(schedule, at, at + _INSTANT):
        shifts = (
            Shift.objects.filter(schedule=schedule, end__gt=at, start__lte=at)
            .select_related("user")
            .order_by("start", "pk")
        )
        people = []
        for shift in shifts:
            if shift.user not in people:
                people.append(shift.user)
        return people
    ids = final.on_call_at(specs.schedule_final(schedule, at, at + _INSTANT), at)
    users = get_user_model().objects.in_bulk(ids)
    return [users[i] for i in ids if i in users]


def oncall_now_by_schedule(schedule_ids, at: datetime) -> dict:
    """Return {schedule id (str): [people on call at `at`]} for several schedules (tiers)."""
    schedules = Schedule.objects.in_bulk({str(pk) for pk in schedule_ids})
    return {str(pk): oncall_at(schedule, at) for pk, schedule in schedules.items()}


def contact_methods_of(people) -> list:
    """Return the enabled contact methods of `people`, person by person, in their order."""
    order = {person.pk: index for index, person in enumerate(people)}
    methods = ContactMethod.objects.filter(user_id__in=order, enabled=True)
    return sorted(methods, key=lambda m: (order[m.user_id], m.position, m.delay_minutes, m.pk))


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[final.Interval]:
    """Return the final schedule over [start, end) with users (not ids), sorted by start."""
    if materialized(schedule, start, end):
        rows = (
            Shift.objects.filter(schedule=schedule, end__gt=start, start__lt=end)
            .select_related("user")
            .order_by("start", "pk")
        )
        return [
            final.Interval(
                row.user,
                max(row.start, start),
                min(row.end, end),
                row.source,
                row.override_id or row.layer_id,
            )
            for row in rows
        ]
    intervals = specs.schedule_final(schedule, start, end)
    users = get_user_model().objects.in_bulk({i.user for i in intervals})
    return [
        final.Interval(users[i.user], i.start, i.end, i.source, i.key)
        for i in intervals
        if i.user in users
    ]


def gaps(schedule: Schedule, start: datetime | None = None, end: datetime | None = None):
    """Return the spans with nobody on call, by default in the next four weeks."""
    start = start or timezone.now()
    end = end or start + GAP_WINDOW
    return final.gaps(shifts(schedule, start, end), start, end)


def person_shifts(user, *, now: datetime | None = None, limit: int = 20):
    """Return a person's current and next shifts across schedules (materialized ones)."""
    now = now or timezone.now()
    return list(
        Shift.objects.filter(user=user, end__gt=now)
        .select_related("schedule", "override")
        .order_by("start", "pk")[:limit]
    )


def calendar_owner(token: str) -> CalendarToken | None:
    """Return the calendar link a token opens (its schedule or person loaded), or None."""
    return (
        CalendarToken.objects.select_related("schedule", "user")
        .filter(token_hash=hash_key(token))
        .first()
    )
