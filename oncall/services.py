"""Writes: materialize shifts, overrides, hand a shift over, calendar links, feeds, test pages."""

import logging
import uuid
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import Delivery
from notifications.services import deliveries_queue
from oncall import ical, specs
from oncall.final import FEED, OVERRIDE
from oncall.models import CalendarToken, ContactMethod, Override, Schedule, Shift

logger = logging.getLogger("cxhub.oncall")


def _key(shift: Shift):
    """Return the key `oncall.final` gives the interval a shift was made from."""
    return shift.override_id if shift.source == OVERRIDE else shift.layer_id


def schedule_shifts_refresh(schedule_id, *, now: datetime | None = None) -> int:
    """Recompute a schedule's shifts from now to the horizon; return how many were written.

    Shifts that ended stay as the record of who was on call. A shift running now
    that the new schedule continues (same person, same layer or override) keeps
    its row and its start, so a calendar keeps one event (its UID holds the
    start) instead of a new piece at every refresh; one that changes is cut at
    `now`. The schedule's row lock keeps two refreshes (a save and the beat task)
    from interleaving.
    """
    now = now or timezone.now()
    until = now + settings.CXHUB_ONCALL_HORIZON
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=schedule_id)
        intervals = specs.schedule_final(schedule, now, until)
        Shift.objects.filter(schedule=schedule, start__gte=now).delete()
        for shift in Shift.objects.filter(schedule=schedule, start__lt=now, end__gt=now):
            same = (shift.user_id, shift.source, _key(shift))
            going_on = next(
                (i for i in intervals if i.start == now and (i.user, i.source, i.key) == same),
                None,
            )
            if going_on is not None:
                intervals.remove(going_on)
            shift.end = going_on.end if going_on is not None else now
            shift.save(update_fields=["end"])
        Shift.objects.bulk_create(
            [
                Shift(
                    schedule=schedule,
                    user_id=i.user,
                    start=i.start,
                    end=i.end,
                    source=i.source,
                    layer_id=i.key if i.source not in (OVERRIDE, FEED) else None,
                    override_id=i.key if i.source == OVERRIDE else None,
                )
                for i in intervals
            ],
            batch_size=500,
        )
        Schedule.objects.filter(pk=schedule.pk).update(
            shifts_from=min(filter(None, [schedule.shifts_from, now])), shifts_until=until
        )
    return len(intervals)


def _feed_read(url: str, time_zone: str, now: datetime) -> tuple[str | None, str]:
    """Return (the calendar at `url` or None if it failed, the error or "")."""
    try:
        ics = ical.fetch(url)
        _intervals, unknown = ical.feed_intervals(
            ics, time_zone, now, now + settings.CXHUB_ONCALL_HORIZON
        )
    except ical.FeedError as exc:
        return None, str(exc)
    if unknown:
        return ics, _("Events naming nobody known (by e-mail or username): %(names)s") % {
            "names": ", ".join(unknown[:10])
        }
    return ics, ""


def schedule_feed_refresh(schedule_id, *, now: datetime | None = None) -> str:
    """Read a schedule's iCal feeds (shifts, overrides), keep each when valid, refresh shifts.

    Return the error ("" when the feeds were read). A failing feed keeps its last
    good calendar, so the shifts it gave stay, and the error is kept on the
    schedule for the admin to show. The network calls are outside any transaction.
    """
    now = now or timezone.now()
    schedule = Schedule.objects.get(pk=schedule_id)
    if not schedule.ical_url and not schedule.ical_overrides_url:
        return ""
    errors = []
    fields = {"feed_checked_at": now}
    if schedule.ical_url:
        ics, error = _feed_read(schedule.ical_url, schedule.time_zone, now)
        if ics is not None:
            fields["feed_ics"] = ics
        if error:
            errors.append(error)
    if schedule.ical_overrides_url:
        ics, error = _feed_read(schedule.ical_overrides_url, schedule.time_zone, now)
        if ics is not None:
            fields["feed_overrides_ics"] = ics
        if error:
            errors.append(_("Overrides feed: %(error)s") % {"error": error})
    error = " ".join(errors)
    Schedule.objects.filter(pk=schedule_id).update(feed_error=error, **fields)
    if error:
        logger.warning("Schedule %s: %s", schedule.name, error)
    schedule_shifts_refresh(schedule_id, now=now)
    return error


def schedules_refresh(*, now: datetime | None = None) -> int:
    """Read every feed and move every schedule's horizon forward; return how many schedules.

    Shifts that ended longer ago than CXHUB_ONCALL_HISTORY_DAYS are pruned first.
    """
    now = now or timezone.now()
    Shift.objects.filter(end__lt=now - settings.CXHUB_ONCALL_HISTORY).delete()
    count = 0
    for schedule_id, url, overrides_url in Schedule.objects.values_list(
        "pk", "ical_url", "ical_overrides_url"
    ):
        try:
            if url or overrides_url:
                schedule_feed_refresh(schedule_id, now=now)
            else:
                schedule_shifts_refresh(schedule_id, now=now)
        except Exception:  # one broken schedule must not stop the others
            logger.exception("Schedule %s could not be refreshed", schedule_id)
            continue
        count += 1
    return count


def override_create(*, schedule: Schedule, user, start, end, by=None) -> Override:
    """Put `user` on call over [start, end) on `schedule`; raise ValidationError if invalid."""
    override = Override(schedule=schedule, user=user, start=start, end=end, created_by=by)
    override.full_clean()
    with transaction.atomic():
        override.save()
        schedule_shifts_refresh(schedule.pk)
    return override


def override_delete(*, override: Override) -> None:
    """Remove an override; the layers (or the feed) say who is on call again."""
    schedule_id = override.schedule_id
    with transaction.atomic():
        override.delete()
        schedule_shifts_refresh(schedule_id)


def shift_hand_over(*, shift: Shift, to, by, now: datetime | None = None) -> Override:
    """Hand the rest of a person's shift to a colleague: an override for what is left of it."""
    now = now or timezone.now()
    if shift.user_id != by.pk:
        raise ValidationError(_("Only the person on call may hand this shift over."))
    if to.pk == by.pk:
        raise ValidationError(_("Choose a colleague, not yourself."))
    if shift.end <= now:
        raise ValidationError(_("This shift is over."))
    return override_create(
        schedule=shift.schedule, user=to, start=max(shift.start, now), end=shift.end, by=by
    )


def calendar_link_rotate(*, schedule: Schedule | None = None, user=None) -> str:
    """Give a schedule or a person a new calendar token and return it; the old one stops."""
    with transaction.atomic():
        CalendarToken.objects.filter(schedule=schedule, user=user).delete()
        token = CalendarToken(schedule=schedule, user=user)
        secret = token.set_new_token()
        token.save()
    return secret


def calendar_link_revoke(*, schedule: Schedule | None = None, user=None) -> int:
    """Stop a schedule's or a person's calendar link; return how many were stopped."""
    return CalendarToken.objects.filter(schedule=schedule, user=user).delete()[0]


def contact_method_save(method: ContactMethod) -> ContactMethod:
    """Check a contact method (number, address, or Apprise URL and its host) and save it."""
    method.full_clean()
    method.save()
    return method


def person_send_test_page(user, *, by: str, now: datetime | None = None) -> int:
    """Queue a test page to each of a person's enabled contact methods, now; return how many.

    The pages go through the real delivery engine (the SMS / e-mail gateways,
    Apprise), each request with its own keys, so asking again sends again.
    """
    now = now or timezone.now()
    request_id = uuid.uuid4().hex
    methods = list(ContactMethod.objects.filter(user=user, enabled=True))
    deliveries_queue(
        [
            Delivery(
                key=f"test-page:person:{user.pk}:{request_id}:{method.pk}",
                purpose=Delivery.Purpose.PAGE,
                person=user,
                contact_method=method,
                due_at=now,
                title="[cxhub] Test page",
                message=f"This is a test page to {user.get_username()} by "
                f"{method.get_kind_display()}, sent by {by}. If you read it, "
                "cxhub can reach you this way.",
            )
            for method in methods
        ],
        now=now,
    )
    return len(methods)
