"""The final schedule: who is on call when, one pure function of layers and overrides.

PagerDuty's semantics by default: a schedule's layers are stacked and a higher
layer wins wherever it has someone; a layer's restrictions leave holes that the
layers below show through. Opsgenie's, with `layers_add_up`: everyone on call in
any layer (rotation) is on call. Either way overrides win over every layer, a
later override over an earlier one.
Handoffs happen at the wall-clock time of the schedule's zone: a daily rotation
at 09:00 in Europe/Berlin hands off at 09:00 before and after the clocks change
(23 or 25 hours apart in UTC). Hourly rotations and custom lengths that are not
whole days step in absolute time.

Everything here is plain data (frozen dataclasses, aware datetimes), so it is
tested without a database; `oncall.specs` builds these from the models.
"""

import bisect
import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HOURLY, DAILY, WEEKLY, CUSTOM = "hourly", "daily", "weekly", "custom"
DAY, WEEK = "day", "week"
LAYER, OVERRIDE, FEED = "layer", "override", "feed"

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Restriction:
    """A window a layer may be on call in, at wall-clock times of the schedule's zone.

    `day`: every day from `start_time` for `duration` (at most 24 h; past midnight
    is fine). `week`: every week from `start_day` (0 Monday ... 6 Sunday) at
    `start_time` for `duration` (at most 7 days).
    """

    kind: str
    start_time: time
    duration: timedelta
    start_day: int = 0


@dataclass(frozen=True)
class Layer:
    """One rotation: its participants take turns of one rotation length from `start`."""

    rotation: str
    start: datetime
    participants: tuple
    length: timedelta | None = None
    end: datetime | None = None
    restrictions: tuple[Restriction, ...] = ()
    key: object = None


@dataclass(frozen=True)
class Override:
    user: object
    start: datetime
    end: datetime
    key: object = None


@dataclass(frozen=True)
class Interval:
    """Someone on call from `start` (inclusive) to `end` (exclusive), and why."""

    user: object
    start: datetime
    end: datetime
    source: str = LAYER
    key: object = None


def step_of(layer: Layer) -> tuple[timedelta, bool]:
    """Return a layer's turn length and whether it steps in wall-clock days."""
    if layer.rotation == HOURLY:
        return timedelta(hours=1), False
    if layer.rotation == DAILY:
        return _ONE_DAY, True
    if layer.rotation == WEEKLY:
        return timedelta(days=7), True
    if layer.rotation == CUSTOM:
        if not layer.length or layer.length <= timedelta(0):
            raise ValueError("A custom rotation needs a positive length.")
        return layer.length, layer.length % _ONE_DAY == timedelta(0)
    raise ValueError(f"Unknown rotation {layer.rotation!r}.")


def _aware(naive: datetime, zone: ZoneInfo) -> datetime:
    # A wall-clock time in the spring gap (02:30 on the day clocks skip to 03:00)
    # takes the offset before the change, so it lands just after it; one in the
    # autumn overlap is its first occurrence.
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _naive(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def rotation(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[Interval]:
    """Return the layer's turns overlapping [start, end), clipped to it, before restrictions."""
    if not layer.participants:
        return []
    # In UTC: arithmetic on datetimes sharing a ZoneInfo is wall-clock arithmetic.
    origin = layer.start.astimezone(UTC)
    start, end = max(start.astimezone(UTC), origin), end.astimezone(UTC)
    if layer.end is not None:
        end = min(end, layer.end.astimezone(UTC))
    if start >= end:
        return []
    step, wall = step_of(layer)
    if wall:
        anchor = _naive(origin, zone)

        def turn_start(k: int) -> datetime:
            return _aware(anchor + k * step, zone)

        first = (_naive(start, zone) - anchor) // step
    else:

        def turn_start(k: int) -> datetime:
            return origin + k * step

        first = (start - origin) // step
    # One turn back: a wall-clock turn can be shorter than `step` in UTC.
    k = max(first - 1, 0)
    count = len(layer.participants)
    turns = []
    begin = turn_start(k)
    while begin < end:
        finish = turn_start(k + 1)
        if finish > start:
            turns.append(
                Interval(
                    layer.participants[k % count],
                    max(begin, start),
                    min(finish, end),
                    LAYER,
                    layer.key,
                )
            )
        k += 1
        begin = finish
    return turns


def restriction_windows(
    restrictions: Sequence[Restriction], zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Return the merged windows of `restrictions` that overlap [start, end), in UTC."""
    first_day = _naive(start, zone).date() - timedelta(days=7)
    last_day = _naive(end, zone).date()
    windows = []
    for restriction in restrictions:
        day = first_day
        if restriction.kind == WEEK:
            day += timedelta(days=(restriction.start_day - day.weekday()) % 7)
            stride = timedelta(days=7)
        elif restriction.kind == DAY:
            stride = _ONE_DAY
        else:
            raise ValueError(f"Unknown restriction kind {restriction.kind!r}.")
        while day <= last_day:
            opens = datetime.combine(day, restriction.start_time)
            window = (_aware(opens, zone), _aware(opens + restriction.duration, zone))
            if window[1] > start and window[0] < end:
                windows.append(window)
            day += stride
    return _merge(sorted(windows))


def _merge(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Merge sorted spans that overlap or touch."""
    merged: list[list[datetime]] = []
    for begin, finish in spans:
        if merged and begin <= merged[-1][1]:
            if finish > merged[-1][1]:
                merged[-1][1] = finish
        else:
            merged.append([begin, finish])
    return [(b, f) for b, f in merged]


def _clip(intervals: list[Interval], windows: list[tuple[datetime, datetime]]) -> list[Interval]:
    """Keep the parts of sorted, disjoint `intervals` inside the sorted, disjoint `windows`."""
    kept = []
    w = 0
    for interval in intervals:
        while w < len(windows) and windows[w][1] <= interval.start:
            w += 1
        j = w
        while j < len(windows) and windows[j][0] < interval.end:
            begin = max(interval.start, windows[j][0])
            finish = min(interval.end, windows[j][1])
            if begin < finish:
                kept.append(Interval(interval.user, begin, finish, interval.source, interval.key))
            j += 1
    return kept


def _uncovered(
    interval: Interval, covered: list[tuple[datetime, datetime]], ends: list[datetime]
) -> list[Interval]:
    """Return the parts of `interval` outside `covered` (sorted, disjoint; `ends` its ends)."""
    pieces = []
    cursor = interval.start
    i = bisect.bisect_right(ends, interval.start)
    while i < len(covered) and covered[i][0] < interval.end:
        if covered[i][0] > cursor:
            pieces.append(
                Interval(interval.user, cursor, covered[i][0], interval.source, interval.key)
            )
        cursor = max(cursor, covered[i][1])
        i += 1
    if cursor < interval.end:
        pieces.append(Interval(interval.user, cursor, interval.end, interval.source, interval.key))
    return pieces


def _paint(tiers: Iterable[list[Interval]]) -> list[Interval]:
    """Stack tiers, highest first: each shows only where the tiers above have nobody.

    Intervals within one tier may overlap (a feed with two people on call): all of
    them show.
    """
    covered: list[tuple[datetime, datetime]] = []
    shown: list[Interval] = []
    for tier in tiers:
        ends = [finish for _, finish in covered]
        pieces = [piece for interval in tier for piece in _uncovered(interval, covered, ends)]
        shown.extend(pieces)
        pieces.sort(key=lambda p: (p.start, p.end))
        covered = _merge(heapq.merge(covered, ((p.start, p.end) for p in pieces)))
    return shown


def _union_by_user(intervals: list[Interval]) -> list[Interval]:
    """Merge the overlapping turns of one person (in two layers that add up) into one."""
    merged: dict[object, list[Interval]] = {}
    for interval in sorted(intervals, key=lambda i: (i.start, i.end)):
        spans = merged.setdefault(interval.user, [])
        if spans and interval.start < spans[-1].end:
            if interval.end > spans[-1].end:
                last = spans[-1]
                spans[-1] = Interval(last.user, last.start, interval.end, last.source, last.key)
            continue
        spans.append(interval)
    return [interval for spans in merged.values() for interval in spans]


def _join(intervals: list[Interval]) -> list[Interval]:
    """Join turns of one person from one source that follow each other without a break."""
    intervals = sorted(intervals, key=lambda i: (i.start, i.end))
    last: dict[tuple, int] = {}
    joined: list[Interval] = []
    for interval in intervals:
        same = (interval.user, interval.source, interval.key)
        index = last.get(same)
        if index is not None and joined[index].end == interval.start:
            before = joined[index]
            joined[index] = Interval(
                before.user, before.start, interval.end, before.source, before.key
            )
            continue
        last[same] = len(joined)
        joined.append(interval)
    return joined


def final_schedule(
    *,
    layers: Sequence[Layer],
    overrides: Sequence[Override] = (),
    feed: Sequence[Interval] = (),
    time_zone: str | ZoneInfo,
    start: datetime,
    end: datetime,
    layers_add_up: bool = False,
) -> list[Interval]:
    """Return who is on call in [start, end), sorted by start.

    `layers` are given lowest first (as a schedule lists them: layer 1 at the
    bottom); `overrides` oldest first (the latest wins where two overlap); `feed`
    is a read-only calendar's shifts, the lowest of all. With `layers_add_up` the
    layers are one tier: where two have someone, both are on call.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("Give aware datetimes.")
    zone = time_zone if isinstance(time_zone, ZoneInfo) else ZoneInfo(time_zone)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if start >= end:
        return []
    tiers = []
    for override in reversed(overrides):
        begin = max(override.start.astimezone(UTC), start)
        finish = min(override.end.astimezone(UTC), end)
        if begin < finish:
            tiers.append([Interval(override.user, begin, finish, OVERRIDE, override.key)])
    together: list[Interval] = []
    for layer in reversed(layers):
        turns = rotation(layer, zone, start, end)
        if layer.restrictions and turns:
            turns = _clip(turns, restriction_windows(layer.restrictions, zone, start, end))
        if layers_add_up:
            together.extend(turns)
        else:
            tiers.append(turns)
    if layers_add_up:
        tiers.append(_union_by_user(together))
    tiers.append(
        [
            Interval(i.user, max(begin, start), min(finish, end), FEED, i.key)
            for i in feed
            for begin, finish in [(i.start.astimezone(UTC), i.end.astimezone(UTC))]
            if finish > start and begin < end
        ]
    )
    return _join(_paint(tiers))


def on_call_at(intervals: Iterable[Interval], at: datetime) -> list:
    """Return the users on call at `at` in a final schedule, in order of appearance."""
    users = []
    for interval in intervals:
        if interval.start <= at < interval.end and interval.user not in users:
            users.append(interval.user)
    return users


def gaps(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[tuple]:
    """Return the spans of [start, end) with nobody on call, as (start, end) pairs in UTC."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    found = []
    cursor = start
    utc_spans = sorted((i.start.astimezone(UTC), i.end.astimezone(UTC)) for i in intervals)
    for begin, finish in _merge(utc_spans):
        if finish <= cursor:
            continue
        if begin >= end:
            break
        if begin > cursor:
            found.append((cursor, begin))
        cursor = max(cursor, finish)
    if cursor < end:
        found.append((cursor, end))
    return found


def local_midnight(day: date, time_zone: str) -> datetime:
    """Return the start of `day` in a zone, in UTC (a helper for callers and tests)."""
    return _aware(datetime.combine(day, time.min), ZoneInfo(time_zone))
