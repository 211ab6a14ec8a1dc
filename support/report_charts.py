"""Report charts as SVG geometry: horizontal bars for means, stacked columns per week.

Pure functions, drawn by templates as inline SVG (no JavaScript library, no CDN).
"""

from dataclasses import dataclass, field
from typing import NamedTuple

from django.utils.html import escape
from django.utils.safestring import mark_safe

# Colours of stacked series, in order; the CSS draws nothing of its own here.
PALETTE = ["#5b8def", "#d9480f", "#7b3fc4", "#2f855a", "#b7791f", "#c0392b", "#667085"]
ROW_HEIGHT = 22
LABEL_WIDTH = 220
# About 8 px a character at the chart's font size: longer labels end in an ellipsis.
LABEL_CHARS = 25
# A column never gets wider than this, so two weeks do not draw two slabs.
MAX_COLUMN = 56


@dataclass(frozen=True)
class HBar:
    label: str
    value: float
    text: str  # the value as shown (a duration, a count)
    y: float
    width: float


@dataclass
class HBarChart:
    width: int
    height: int
    left: int
    bars: list[HBar] = field(default_factory=list)


def hbar_chart(rows: list[tuple[str, float | None, str]], *, width: int = 560) -> HBarChart:
    """Lay out one bar per (label, value, text) row; rows without a value get no bar."""
    plot = width - LABEL_WIDTH - 80
    peak = max((v for _, v, _ in rows if v), default=0) or 1
    chart = HBarChart(width=width, height=ROW_HEIGHT * len(rows) + 8, left=LABEL_WIDTH)
    for i, (label, value, text) in enumerate(rows):
        chart.bars.append(
            HBar(
                label=label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…",
                value=value or 0,
                text=text,
                y=4 + i * ROW_HEIGHT,
                width=round(plot * (value or 0) / peak, 2),
            )
        )
    return chart


class Segment(NamedTuple):
    """One series' share of one column (a year's chart has a thousand: a tuple is cheap)."""

    x: float
    y: float
    width: float
    height: float
    color: str
    series: str
    count: int


@dataclass(frozen=True)
class Legend:
    name: str
    color: str


@dataclass
class ColumnChart:
    width: int
    height: int
    left: int
    top: int
    plot_height: int
    peak: int
    segments: list[Segment] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    totals: list[tuple[float, float, int]] = field(default_factory=list)
    legend: list[Legend] = field(default_factory=list)

    @property
    def bottom(self) -> int:
        return self.top + self.plot_height

    def segments_svg(self) -> str:
        """Return the segments as SVG rectangles.

        A year's chart is 53 weeks of up to 20 services, a thousand segments: drawn by
        a template loop (or `format_html_join`, an escape per number) they cost more
        than every query of the page; numbers need no escaping, a series name is
        escaped once.
        """
        names = {s.series: escape(s.series) for s in self.segments}
        return mark_safe(  # noqa: S308 (numbers, and names escaped above)
            "".join(
                f'<rect x="{s.x}" y="{s.y}" width="{s.width}" height="{s.height}" '
                f'fill="{s.color}"><title>{names[s.series]}: {s.count}</title></rect>'
                for s in self.segments
            )
        )

    def axis_svg(self) -> str:
        """Return each column's total (when not zero) and its label under the axis."""
        below = self.bottom + 16
        totals = "".join(
            f'<text class="axis" x="{x}" y="{y}" text-anchor="middle">{n}</text>'
            for x, y, n in self.totals
            if n
        )
        labels = "".join(
            f'<text class="axis" x="{x}" y="{below}" text-anchor="middle">{escape(label)}</text>'
            for x, label in self.x_labels
        )
        return mark_safe(totals + labels)  # noqa: S308 (numbers, and labels escaped)


def column_chart(
    categories: list[str], series: dict[str, list[int]], *, width: int = 760, height: int = 180
) -> ColumnChart:
    """Stack each category's series into one column, with its total on top."""
    left, top, bottom_pad = 36, 18, 24
    plot_width, plot_height = width - left - 12, height - top - bottom_pad
    totals = [sum(values[i] for values in series.values()) for i in range(len(categories))]
    peak = max(totals, default=0)
    scale = max(peak, 1)
    slot = plot_width / max(len(categories), 1)
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series)}
    chart = ColumnChart(
        width=width,
        height=height,
        left=left,
        top=top,
        plot_height=plot_height,
        peak=peak,
        legend=[Legend(name, color) for name, color in colors.items()],
    )
    column = min(slot * 0.7, MAX_COLUMN)
    width = round(column, 2)
    for i, category in enumerate(categories):
        x = round(left + i * slot + (slot - column) / 2, 2)
        base = top + plot_height
        for name, values in series.items():
            n = values[i]
            if not n:
                continue
            h = plot_height * n / scale
            base -= h
            chart.segments.append(
                Segment(
                    x=x,
                    y=round(base, 2),
                    width=width,
                    height=round(h, 2),
                    color=colors[name],
                    series=name,
                    count=n,
                )
            )
        center = round(left + i * slot + slot / 2, 2)
        chart.x_labels.append((center, category))
        chart.totals.append((center, round(base - 4, 2), totals[i]))
    return chart
