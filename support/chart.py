"""The occurrences chart: a pure function from times to SVG geometry.

Rendered server-side as inline SVG, so the page needs no JavaScript library
and no CDN, and the same numbers can be tested without a browser.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

# Bucket sizes to choose from, smallest first; the first giving at most
# MAX_BUCKETS bars over the incident's span wins.
BUCKET_SIZES = [
    timedelta(seconds=s)
    for s in (10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400)
]
MAX_BUCKETS = 60
# A young incident is drawn over at least this span, so its first bars stay narrow.
MIN_SPAN = timedelta(minutes=5)
# Marker labels sit above the plot in a few rows, so close moments stay readable.
LABEL_ROWS = 3
LABEL_HEIGHT = 12
LABEL_CHAR_WIDTH = 6.5


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    start: datetime
    count: int


@dataclass(frozen=True)
class Marker:
    x: float
    at: datetime
    kind: str  # push, page, acknowledged, resolved
    label: str
    label_y: float  # rows above the plot, the lowest first


@dataclass(frozen=True)
class Tick:
    pos: float
    value: object


@dataclass
class Chart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    bucket: timedelta
    total: int
    peak: int
    bars: list[Bar] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)

    @property
    def bottom(self) -> int:
        return self.top + self.plot_height

    @property
    def right(self) -> int:
        return self.left + self.plot_width

    @property
    def bucket_seconds(self) -> int:
        return int(self.bucket.total_seconds())

    @property
    def tick_format(self) -> str:
        """Return the date-filter format that tells neighbouring x ticks apart."""
        if self.bucket < timedelta(minutes=1):
            return "H:i:s"
        if self.bucket < timedelta(hours=1):
            return "H:i"
        return "d/m H:i"


def bucket_size(span: timedelta) -> timedelta:
    """Return the smallest bucket size giving at most MAX_BUCKETS buckets over `span`."""
    for size in BUCKET_SIZES:
        if span / size <= MAX_BUCKETS:
            return size
    return BUCKET_SIZES[-1] * (int(span / BUCKET_SIZES[-1] / MAX_BUCKETS) + 1)


def _floor(at: datetime, size: timedelta) -> datetime:
    seconds = size.total_seconds()
    return datetime.fromtimestamp(at.timestamp() // seconds * seconds, tz=at.tzinfo)


def occurrence_chart(
    times: list[datetime],
    *,
    start: datetime,
    end: datetime,
    markers: list[tuple[datetime, str, str]] = (),
    width: int = 760,
    height: int = 240,
) -> Chart:
    """Bucket occurrence `times` between `start` and `end` into bars, and place markers.

    `markers` are (time, kind, label) moments such as a push or a tier page.
    """
    left, top, right_pad, bottom_pad = 36, 12 + LABEL_ROWS * LABEL_HEIGHT, 30, 26
    plot_width, plot_height = width - left - right_pad, height - top - bottom_pad
    end = max(end, start + MIN_SPAN, *times)
    size = bucket_size(end - start)
    first = _floor(min([start, *times]), size)
    count = int((end - first) / size) + 1
    counts = [0] * count
    for at in times:
        counts[min(int((at - first) / size), count - 1)] += 1
    peak = max(counts, default=0)
    scale = max(peak, 1)
    slot = plot_width / count
    chart = Chart(
        width=width,
        height=height,
        left=left,
        top=top,
        plot_width=plot_width,
        plot_height=plot_height,
        bucket=size,
        total=len(times),
        peak=peak,
    )
    for i, n in enumerate(counts):
        bar_height = plot_height * n / scale
        chart.bars.append(
            Bar(
                x=round(left + i * slot + slot * 0.1, 2),
                y=round(top + plot_height - bar_height, 2),
                width=round(max(slot * 0.8, 1), 2),
                height=round(bar_height, 2),
                start=first + i * size,
                count=n,
            )
        )
    span = size * count

    def x_of(at: datetime) -> float:
        return round(left + plot_width * min(max((at - first) / span, 0), 1), 2)

    chart.markers = _place_markers(
        [(x_of(at), at, kind, label) for at, kind, label in markers], top=top
    )
    step = max(count // 6, 1)
    chart.x_ticks = [
        Tick(pos=round(left + i * slot, 2), value=first + i * size) for i in range(0, count, step)
    ]
    chart.y_ticks = [
        Tick(pos=round(top + plot_height - plot_height * v / scale, 2), value=v)
        for v in sorted({0, (peak + 1) // 2, peak})
        if peak
    ] or [Tick(pos=top + plot_height, value=0)]
    return chart


def _place_markers(markers: list[tuple[float, datetime, str, str]], *, top: int) -> list[Marker]:
    """Merge same-kind moments at the same x, then put each label in the first free row.

    A row is free when the previous label in it ends left of this one; when none is,
    the row that frees up first takes it (an overlap cannot always be avoided).
    """
    merged: dict[tuple[float, str], list] = {}
    for x, at, kind, label in sorted(markers, key=lambda m: m[1]):
        key = (x, kind)
        if key in merged:
            merged[key][2].append(label)
        else:
            merged[key] = [x, at, [label]]
    placed, row_ends = [], [float("-inf")] * LABEL_ROWS
    for (x, kind), (_, at, labels) in sorted(merged.items(), key=lambda item: item[1][1]):
        label = ", ".join(dict.fromkeys(labels))
        half = len(label) * LABEL_CHAR_WIDTH / 2
        free = [r for r, end in enumerate(row_ends) if end < x - half]
        row = free[0] if free else min(range(LABEL_ROWS), key=lambda r: row_ends[r])
        row_ends[row] = x + half + 4
        label_y = top - 8 - row * LABEL_HEIGHT
        placed.append(Marker(x=x, at=at, kind=kind, label=label, label_y=label_y))
    return placed
