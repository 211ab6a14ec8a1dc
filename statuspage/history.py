"""Uptime history: per day, the share of time a service was up, from its incidents.

Pure functions over (start, end) spans, tested without a database: days are the
calendar days of one time zone (the page's), today counts up to now.
"""

import zoneinfo
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


@dataclass(frozen=True)
class Span:
    """One incident as the history shows it: when it made the service unavailable."""

    start: datetime
    end: datetime | None  # None: still open


@dataclass(frozen=True)
class Day:
    """One bar: a calendar day, its uptime percentage and the incidents it overlapped."""

    day: date
    uptime: float  # 0..100, two decimals
    down_seconds: int
    seconds: int  # the day's length (23 or 25 h on a DST change; today so far)
    incidents: tuple[Span, ...]

    @property
    def level(self) -> str:
        """Return the bar's class: up, minor (>= 99 %), major (>= 95 %) or down."""
        if not self.incidents:
            return "up"
        if self.uptime >= 99:
            return "minor"
        return "major" if self.uptime >= 95 else "down"


def _merged(spans, *, now) -> list[tuple[datetime, datetime]]:
    """Return the spans' union as sorted, disjoint (start, end) pairs (open ones end now)."""
    merged: list[list[datetime]] = []
    for start, end in sorted((s.start, s.end or now) for s in spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def uptime_days(spans: list[Span], *, days: int, now: datetime, time_zone: str) -> list[Day]:
    """Return the last `days` calendar days (oldest first, today last) with their uptime.

    Each span is put on the days it overlaps (a bisection on the days' bounds), so
    the work grows with days + spans, not with their product.
    """
    zone = zoneinfo.ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    calendar = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    # In UTC: aware datetimes of one zone subtract as wall-clock times.
    bounds = [
        (
            datetime.combine(day, time(), zone).astimezone(UTC),
            min(datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC), now),
        )
        for day in calendar
    ]
    begins = [begin for begin, _end in bounds]

    def days_of(start: datetime, end: datetime | None) -> range:
        first = max(0, bisect_right(begins, start) - 1)
        last = len(bounds) if end is None else bisect_left(begins, end)
        return range(first, last)

    lost = [0.0] * len(bounds)
    for start, end in _merged(spans, now=now):
        for index in days_of(start, end):
            day_begin, day_end = bounds[index]
            lost[index] += max(0.0, (min(end, day_end) - max(start, day_begin)).total_seconds())
    overlapping: list[list[Span]] = [[] for _ in bounds]
    for span in spans:
        for index in days_of(span.start, span.end):
            day_begin, day_end = bounds[index]
            if span.start < day_end and (span.end is None or span.end > day_begin):
                overlapping[index].append(span)
    found = []
    for index, day in enumerate(calendar):
        day_begin, day_end = bounds[index]
        length = max((day_end - day_begin).total_seconds(), 1)
        found.append(
            Day(
                day=day,
                uptime=round(100 * (1 - min(lost[index], length) / length), 2),
                down_seconds=round(min(lost[index], length)),
                seconds=round(length),
                incidents=tuple(overlapping[index]),
            )
        )
    return found


def uptime_overall(days: list[Day]) -> float:
    """Return the uptime percentage over all `days`, each weighted by its length."""
    total = sum(d.seconds for d in days)
    if not total:
        return 100.0
    return round(100 * (1 - sum(d.down_seconds for d in days) / total), 3)
