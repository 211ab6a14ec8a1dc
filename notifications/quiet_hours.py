"""Quiet hours: whether a moment is in a customer's night, and when their morning comes.

Pure functions of (moment, time zone, window): no database, no settings read
here. The window is CXHUB_QUIET_HOURS ("22:00-08:00"), in each customer's own
time zone; a window may cross midnight or not ("01:00-06:00").
"""

import zoneinfo
from datetime import datetime, time, timedelta
from functools import lru_cache


@lru_cache(maxsize=1024)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def _in_window(clock: time, start: time, end: time) -> bool:
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end  # crosses midnight


def morning_of(moment: datetime, zone: str, window: tuple[time, time] | None) -> datetime | None:
    """Return when the quiet hours around `moment` end in `zone` (aware, UTC), or None.

    None: `moment` is outside the quiet hours (or there are none), so send now.
    """
    if window is None:
        return None
    start, end = window
    local = moment.astimezone(_zone(zone))
    if not _in_window(local.time().replace(tzinfo=None), start, end):
        return None
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    # Wall-clock end in the zone (fold=0: the first of an ambiguous hour); astimezone
    # normalises a time skipped by a DST change to the real instant after it.
    morning = datetime.combine(day, end, tzinfo=_zone(zone))
    return morning.astimezone(zoneinfo.ZoneInfo("UTC"))
