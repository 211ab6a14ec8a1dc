"""Where two layers of an imported schedule both have someone: Opsgenie pages both, cxhub one.

Opsgenie puts the participant of every rotation on call at once; PagerDuty and
cxhub stack layers (the higher wins where it has someone). Rotations restricted
to different hours (business hours and nights) mean the same in both; ones that
overlap do not, and the importer says so instead of silently dropping a person.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from importers import specs
from oncall import final

WINDOW = timedelta(weeks=4)


def as_final(layer: specs.Layer) -> final.Layer:
    """Return an imported layer as `oncall.final` computes it (people by external id)."""
    return final.Layer(
        rotation=layer.rotation,
        start=layer.start,
        participants=layer.participants,
        length=layer.length,
        end=layer.end,
        restrictions=tuple(
            final.Restriction(r.kind, r.start_time, r.duration, r.start_day)
            for r in layer.restrictions
        ),
        key=layer.name,
    )


def overlapping_layers(schedule: specs.Schedule, now: datetime) -> list[tuple[str, str, datetime]]:
    """Return (lower, higher, first moment) for each pair of layers that overlap in 4 weeks."""
    if len(schedule.layers) < 2:
        return []
    try:
        zone = ZoneInfo(schedule.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return []
    end = now + WINDOW
    alone = [
        final.final_schedule(layers=[as_final(layer)], time_zone=zone, start=now, end=end)
        for layer in schedule.layers
    ]
    found = []
    for i, lower in enumerate(alone):
        for j in range(i + 1, len(alone)):
            first = min(
                (
                    max(a.start, b.start)
                    for a in lower
                    for b in alone[j]
                    if a.start < b.end and b.start < a.end
                ),
                default=None,
            )
            if first is not None:
                found.append(
                    (schedule.layers[i].name, schedule.layers[j].name, first.astimezone(zone))
                )
    return found
