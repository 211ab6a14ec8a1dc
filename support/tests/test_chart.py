from datetime import UTC, datetime, timedelta

from support.chart import bucket_size, occurrence_chart

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_bucket_size_keeps_at_most_sixty_bars():
    assert bucket_size(timedelta(minutes=5)) == timedelta(seconds=10)
    assert bucket_size(timedelta(minutes=30)) == timedelta(seconds=30)
    assert bucket_size(timedelta(hours=3)) == timedelta(minutes=5)
    assert bucket_size(timedelta(days=2)) == timedelta(hours=1)


def test_occurrences_are_counted_in_their_buckets():
    times = [T0, T0 + timedelta(seconds=5), T0 + timedelta(seconds=65), T0 + timedelta(minutes=4)]
    chart = occurrence_chart(times, start=T0, end=T0 + timedelta(minutes=5))
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
    assert len(chart.bars) == 31  # the minimum 5-minute span, in 10-second buckets
    assert all(b.height == 0 for b in chart.bars)
    assert [t.value for t in chart.y_ticks] == [0]


def test_tick_labels_are_precise_enough_to_differ():
    assert occurrence_chart([], start=T0, end=T0).tick_format == "H:i:s"
    assert occurrence_chart([], start=T0, end=T0 + timedelta(hours=3)).tick_format == "H:i"
    assert occurrence_chart([], start=T0, end=T0 + timedelta(days=3)).tick_format == "d/m H:i"
