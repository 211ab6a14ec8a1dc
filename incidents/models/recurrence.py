"""Maintenance windows as time: the expansion of a recurrence rule, and the windows in a range.

A recurring window (`RecurringMaintenance`) is a rule that writes one-off
`MaintenanceWindow` rows ahead (`incidents.lifecycle.recurrence`), so each occurrence holds
pushes and pages through the same `selectors.maintenance_covering` as a window
made by hand, can be ended or cancelled alone, and is one row to announce.
`windows_overlapping` is the one filter for "maintenance at t" (or in a range).
"""

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dateutil import rrule

from incidents.models.response import MaintenanceWindow

# A finer frequency would write thousands of windows ahead; nobody plans work that way.
FREQUENCIES = {rrule.DAILY, rrule.WEEKLY, rrule.MONTHLY, rrule.YEARLY}
UNTIL_UTC = re.compile(r"UNTIL=(\d{8}T\d{6})Z", re.IGNORECASE)


class RecurrenceError(ValueError):
    """The rule is not one cxhub expands (its message says why, for the admin form)."""


def _local_until(text: str, zone: zoneinfo.ZoneInfo) -> str:
    """Rewrite UNTIL=...Z (UTC, as RFC 5545 asks) as the zone's wall-clock time."""

    def local(match):
        at = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return "UNTIL=" + at.astimezone(zone).strftime("%Y%m%dT%H%M%S")

    return UNTIL_UTC.sub(local, text)


def rule_parse(rule: str, *, dtstart: datetime, time_zone: str = "UTC") -> rrule.rrule:
    """Return the RFC 5545 RRULE `rule` (FREQ=WEEKLY;BYDAY=SU) from the naive local `dtstart`."""
    text = rule.strip().removeprefix("RRULE:")
    if not text or "DTSTART" in text.upper() or "\n" in text:
        raise RecurrenceError("Give one RRULE line, such as FREQ=WEEKLY;BYDAY=SU.")
    text = _local_until(text, zoneinfo.ZoneInfo(time_zone))
    try:
        parsed = rrule.rrulestr(text, dtstart=dtstart)
    except (ValueError, TypeError) as error:
        raise RecurrenceError(f"Not an RRULE: {error}") from error
    if not isinstance(parsed, rrule.rrule) or parsed._freq not in FREQUENCIES:
        raise RecurrenceError("Repeat daily, weekly, monthly or yearly.")
    return parsed


def rrule_occurrences(
    rule: str,
    *,
    starts_on: date,
    start_time: time,
    duration: timedelta,
    time_zone: str,
    start: datetime,
    end: datetime,
) -> list[tuple[datetime, datetime]]:
    """Return the (start, end) of each occurrence beginning in [start, end), in UTC.

    The rule runs on the wall clock of `time_zone` ("every Sunday 02:00" stays
    02:00 across a daylight-saving change); `start` and `end` are aware.
    """
    zone = zoneinfo.ZoneInfo(time_zone)
    parsed = rule_parse(rule, dtstart=datetime.combine(starts_on, start_time), time_zone=time_zone)
    # Local wall-clock bounds, widened by a day for offsets; exact filtering is in UTC.
    local_from = start.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    local_to = end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    found = []
    for local in parsed.between(local_from, local_to, inc=True):
        begins = local.replace(tzinfo=zone).astimezone(UTC)
        if start <= begins < end:
            found.append((begins, begins + duration))
    return found


@dataclass(frozen=True)
class MaintenanceOccurrence:
    """One maintenance window, one-off or an occurrence of a recurring one."""

    id: int
    recurrence_id: int | None
    service_id: int | None
    action_id: object
    starts_at: datetime
    ends_at: datetime
    reason: str
    status_visible: bool

    @classmethod
    def of(cls, window: MaintenanceWindow) -> "MaintenanceOccurrence":
        return cls(
            id=window.pk,
            recurrence_id=window.recurrence_id,
            service_id=window.service_id,
            action_id=window.action_id,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            reason=window.reason,
            status_visible=window.status_visible,
        )


def windows_overlapping(start: datetime, end: datetime | None = None):
    """Return the windows running at some moment of [start, end] (at `start` alone if no end).

    The one filter for "maintenance at t": holds (`selectors.maintenance_covering`),
    the status page and the Open Finance feeds all ask it.
    """
    return MaintenanceWindow.objects.filter(starts_at__lte=end or start, ends_at__gt=start)


def maintenance_occurrences(start: datetime, end: datetime) -> list[MaintenanceOccurrence]:
    """Return every maintenance window (recurring occurrences included) overlapping [start, end].

    Recurring windows are written `CXHUB_MAINTENANCE_HORIZON_DAYS` ahead, so a
    range beyond that horizon sees them once the beat task has written them.
    """
    return [
        MaintenanceOccurrence.of(window)
        for window in windows_overlapping(start, end).order_by("starts_at", "pk")
    ]
