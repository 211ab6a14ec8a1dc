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
    for s in (1, 2, 5, 10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400)
]
MAX_BUCKETS = 60
# The axis covers the incident's own moments (occurrences and marks), at least this
# long, so a 20-second burst fills the plot instead of its left edge.
MIN_SPAN = timedelta(seconds=10)
# Marker labels sit above the plot in rows: a label takes the first row where it
# overlaps no other, and the chart grows a row when none is free.
LABEL_ROWS = 3
LABEL_HEIGHT = 13
LABEL_CHAR_WIDTH = 7.5  # 11 px bold, measured wide rather than narrow
LABEL_GAP = 8


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
    label_x: float  # the label's centre: its line's x, kept inside the chart


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
    weights: list[int] | None = None,
    width: int = 760,
    height: int = 240,
) -> Chart:
    """Bucket occurrence `times` into bars over the incident's span, and place markers.

    `weights`, when given, says how many occurrences each time stands for (times
    counted per second by the database instead of one per occurrence).
    `markers` are (time, kind, label) moments such as a push or a tier page. The
    axis runs from `start` to the last occurrence or mark (never past `end`, "now"
    or the resolution), plus a little room, so it fits what happened.
    """
    left, right_pad, bottom_pad = 36, 30, 26
    plot_width = width - left - right_pad
    moments = [*times, *(at for at, _kind, _label in markers)]
    last = min(max([start, *moments]), max(end, start))
    last = max(last, *times) if times else last
    span = max(last - start, MIN_SPAN)
    size = bucket_size(span * 1.05)
    first = _floor(min([start, *times]), size)
    count = int((start + span * 1.05 - first) / size) + 1
    counts = [0] * count
    for at, n in zip(times, weights or [1] * len(times), strict=True):
        counts[min(int((at - first) / size), count - 1)] += n
    peak = max(counts, default=0)
    scale = max(peak, 1)
    slot = plot_width / count
    axis_span = size * count

    def x_of(at: datetime) -> float:
        return round(left + plot_width * min(max((at - first) / axis_span, 0), 1), 2)

    placed, rows = _place_markers(
        [(x_of(at), at, kind, label) for at, kind, label in markers], width=width
    )
    top = 12 + max(rows, LABEL_ROWS) * LABEL_HEIGHT
    height += max(rows - LABEL_ROWS, 0) * LABEL_HEIGHT
    plot_height = height - top - bottom_pad
    chart = Chart(
        width=width,
        height=height,
        left=left,
        top=top,
        plot_width=plot_width,
        plot_height=plot_height,
        bucket=size,
        total=sum(weights) if weights is not None else len(times),
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
    chart.markers = [
        Marker(x=x, at=at, kind=kind, label=label, label_x=lx, label_y=top - 8 - row * LABEL_HEIGHT)
        for x, at, kind, label, lx, row in placed
    ]
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


def _place_markers(
    markers: list[tuple[float, datetime, str, str]], *, width: int
) -> tuple[list[tuple], int]:
    """Merge same-kind moments at the same x, then give each label a row where it fits.

    A label overlaps no other: it takes the first row whose labels all end before it
    starts, or a new row. Return (x, at, kind, label, label_x, row) tuples and the
    number of rows used.
    """
    merged: dict[tuple[float, str], list] = {}
    for x, at, kind, label in sorted(markers, key=lambda m: m[1]):
        key = (x, kind)
        if key in merged:
            merged[key][2].append(label)
        else:
            merged[key] = [x, at, [label]]
    placed, row_ends = [], []
    for (x, kind), (_, at, labels) in sorted(merged.items(), key=lambda item: item[1][1]):
        label = ", ".join(dict.fromkeys(labels))
        half = len(label) * LABEL_CHAR_WIDTH / 2
        label_x = round(min(max(x, half + 2), width - half - 2), 2)
        row = next((r for r, end in enumerate(row_ends) if end <= label_x - half), None)
        if row is None:
            row = len(row_ends)
            row_ends.append(0)
        row_ends[row] = label_x + half + LABEL_GAP
        placed.append((x, at, kind, label, label_x, row))
    return placed, len(row_ends)
