"""A schedule's rows as the plain data `oncall.final` computes on, and its final schedule."""

from datetime import datetime

from oncall import final, ical
from oncall.models import Override, Schedule


def layers_of(schedule: Schedule) -> list[final.Layer]:
    """Return the schedule's layers, lowest first, participants in turn order."""
    layers = schedule.layers.prefetch_related("members", "restrictions").order_by("order")
    return [
        final.Layer(
            rotation=layer.rotation_type,
            start=layer.start,
            participants=tuple(
                m.user_id for m in sorted(layer.members.all(), key=lambda m: (m.position, m.pk))
            ),
            length=layer.rotation_length,
            end=layer.end,
            restrictions=tuple(
                final.Restriction(
                    kind=r.kind, start_time=r.start_time, duration=r.duration, start_day=r.start_day
                )
                for r in layer.restrictions.all()
            ),
            key=layer.pk,
        )
        for layer in layers
    ]


def overrides_of(schedule: Schedule, start: datetime, end: datetime) -> list[final.Override]:
    """Return the overrides overlapping [start, end), oldest first (the latest wins).

    The overrides feed's events come first: an override made in cxhub wins over them.
    """
    fed = []
    if schedule.ical_overrides_url and schedule.feed_overrides_ics:
        intervals = ical.feed_intervals(schedule.feed_overrides_ics, schedule.time_zone, start, end)
        fed = [final.Override(i.user, i.start, i.end) for i in sorted(intervals[0], key=_start)]
    rows = Override.objects.filter(schedule=schedule, end__gt=start, start__lt=end).order_by(
        "created_at", "pk"
    )
    return fed + [final.Override(o.user_id, o.start, o.end, key=o.pk) for o in rows]


def _start(interval: final.Interval):
    return (interval.start, interval.end)


def schedule_final(schedule: Schedule, start: datetime, end: datetime) -> list[final.Interval]:
    """Return the schedule's final schedule over [start, end): user ids, not users."""
    feed = []
    layers = []
    if schedule.ical_url:
        if schedule.feed_ics:
            feed = ical.feed_intervals(schedule.feed_ics, schedule.time_zone, start, end)[0]
    else:
        layers = layers_of(schedule)
    return final.final_schedule(
        layers=layers,
        overrides=overrides_of(schedule, start, end),
        feed=feed,
        time_zone=schedule.time_zone,
        start=start,
        end=end,
        layers_add_up=schedule.layers_add_up,
    )
