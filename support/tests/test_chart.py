from datetime import UTC, datetime, timedelta

from support.chart import bucket_size, occurrence_chart

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_bucket_size_keeps_at_most_sixty_bars():
    assert bucket_size(timedelta(seconds=30)) == timedelta(seconds=1)
    assert bucket_size(timedelta(minutes=5)) == timedelta(seconds=5)
    assert bucket_size(timedelta(minutes=30)) == timedelta(seconds=30)
    assert bucket_size(timedelta(hours=3)) == timedelta(minutes=5)
    assert bucket_size(timedelta(days=2)) == timedelta(hours=1)


def test_occurrences_are_counted_in_their_buckets():
    times = [T0, T0 + timedelta(seconds=5), T0 + timedelta(seconds=65), T0 + timedelta(minutes=4)]
    chart = occurrence_chart(
        times,
        start=T0,
        end=T0 + timedelta(minutes=5),
        markers=[(T0 + timedelta(minutes=8), "x", "")],
    )
    assert chart.bucket == timedelta(seconds=10)
    assert chart.total == 4
    counts = {b.start: b.count for b in chart.bars if b.count}
    assert counts == {
        T0: 2,
        T0 + timedelta(seconds=60): 1,
        T0 + timedelta(minutes=4): 1,
    }
    assert chart.peak == 2
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.height == chart.plot_height
    assert tallest.y == chart.top


def test_markers_sit_at_their_moment_on_the_time_axis():
    chart = occurrence_chart(
        [T0],
        start=T0,
        end=T0 + timedelta(minutes=10),
        markers=[
            (T0 + timedelta(minutes=5), "page", "Tier 1"),
            (T0 + timedelta(minutes=1), "push", "Push"),
        ],
    )
    push, page = chart.markers
    assert (push.kind, page.kind) == ("push", "page")
    span = chart.bucket * len(chart.bars)
    assert push.x == round(chart.left + chart.plot_width * (timedelta(minutes=1) / span), 2)
    assert page.x == round(chart.left + chart.plot_width * (timedelta(minutes=5) / span), 2)
    # Far apart: both labels on the row nearest the plot.
    assert push.label_y == page.label_y == chart.top - 8


def test_close_moments_get_their_own_label_rows_and_same_moments_merge():
    at = T0 + timedelta(minutes=1)
    chart = occurrence_chart(
        [T0],
        start=T0,
        end=T0 + timedelta(minutes=10),
        markers=[
            (at, "push", "Push"),
            (at, "page", "Tier 1"),
            (at, "page", "Tier 2"),
            (at + timedelta(seconds=5), "acknowledged", "Acknowledged"),
        ],
    )
    push, page, ack = chart.markers
    assert page.label == "Tier 1, Tier 2"
    assert len({push.label_y, page.label_y, ack.label_y}) == 3
    assert all(0 < m.label_y < chart.top for m in chart.markers)


def test_an_empty_incident_still_draws_an_axis():
    chart = occurrence_chart([], start=T0, end=T0)
    assert chart.total == 0
    assert len(chart.bars) == 11  # the minimum 10-second span and a little room, 1 s buckets
    assert all(b.height == 0 for b in chart.bars)
    assert [t.value for t in chart.y_ticks] == [0]


def test_tick_labels_are_precise_enough_to_differ():
    def spanning(span):
        return occurrence_chart([T0, T0 + span], start=T0, end=T0 + span)

    assert occurrence_chart([], start=T0, end=T0).tick_format == "H:i:s"
    assert spanning(timedelta(hours=3)).tick_format == "H:i"
    assert spanning(timedelta(days=3)).tick_format == "d/m H:i"


def test_a_short_burst_fills_the_plot_instead_of_its_left_edge():
    burst = [T0 + timedelta(seconds=s) for s in range(0, 20, 2)]
    # Still open, looked at ten minutes later: the axis ends with the burst, not now.
    chart = occurrence_chart(burst, start=T0, end=T0 + timedelta(minutes=10))
    drawn = [b for b in chart.bars if b.count]
    assert drawn[-1].x > chart.left + chart.plot_width * 0.5
    assert chart.bucket <= timedelta(seconds=1)


def test_marker_labels_never_overlap_even_when_many_moments_are_close():
    at = T0 + timedelta(seconds=30)
    markers = [(at, "push", "Push")] + [
        (at + timedelta(seconds=i), "page", f"Tier {i}") for i in range(1, 6)
    ]
    markers.append((at + timedelta(seconds=7), "acknowledged", "Acknowledged"))
    chart = occurrence_chart([T0, at], start=T0, end=T0 + timedelta(minutes=1), markers=markers)
    boxes = [
        (m.label_y, m.label_x - len(m.label) * 3.75, m.label_x + len(m.label) * 3.75)
        for m in chart.markers
    ]
    for i, (y, lo, hi) in enumerate(boxes):
        for y2, lo2, hi2 in boxes[i + 1 :]:
            assert y != y2 or hi <= lo2 or hi2 <= lo, (boxes, i)
    assert all(0 < m.label_y < chart.top for m in chart.markers)
    assert all(lo >= 0 and hi <= chart.width for _, lo, hi in boxes)
    assert chart.plot_height == 240 - 12 - 3 * 13 - 26  # the plot keeps its height
