"""Reads over recorded triggers."""

from datetime import datetime

from incidents.models import Trigger
from incidents.simulation import covers


def action_occurrence_times(action, *, since: datetime, limit: int = 200_000) -> list[datetime]:
    """Return when the requests an action covers (as its rules are now) arrived since `since`.

    A request with several covered triggers is one occurrence, as in real counting.
    """
    rules = {(rule.service.slug, rule.code) for rule in action.rules.select_related("service")}
    rows = (
        Trigger.objects.filter(
            received_at__gte=since,
            status=Trigger.Status.FIRING,
            service__in={service for service, _ in rules},
        )
        .order_by("received_at", "report_id")
        .values_list("report_id", "received_at", "service", "code")[:limit]
    )
    seen, times = set(), []
    for report_id, at, service, code in rows.iterator(chunk_size=5000):
        if report_id not in seen and covers(rules, service, code):
            seen.add(report_id)
            times.append(at)
    return times
