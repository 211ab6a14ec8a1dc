"""An incident's trigger bounds (the days its triggers lie in) and its number of reports.

The trigger table is partitioned by `received_at` (PostgreSQL, incidents 0013), not by
incident, so "the triggers of incident X" is planned over every day of the year. Its
readers (`incidents.selectors.IncidentReports`) bound it by the incident's
`first_received_at`/`last_received_at`, given as values, which PostgreSQL prunes to
those days when it plans. `opened_at` is no such bound: a trigger can join an incident
after others received later (two workers draining concurrently, a batch rolled back and
run again, triage re-processing an hour of unmatched triggers, a sender's resolve that
arrives after the incident's last occurrence).

So every statement that links triggers to an incident is followed, in the same
transaction, by an UPDATE of the incident's row that widens the bounds to the linked
triggers' times and adds their new reports to `report_count`: the counting UPDATE
itself (`incident_count_occurrence`, no extra statement), or `trigger_attached` for a
sender's resolve or acknowledge. (Triage's re-processing also joins a report's other
triggers to the incident it counted for: received with a trigger already on it, they
change neither.) An UPDATE works on the row as the last committed writer left it (it
waits for the row lock), so concurrent links each widen it. The bounds may be wider
than the triggers (a trigger moved on to another incident), never narrower.

NULL (an incident older than the columns) stays NULL however it is widened and reads
as "any day" and "count the triggers": `incident_bounds_fill` fills them in. Retention
forgets the count of an incident whose triggers it may have pruned
(`incidents.counting.retention.report_counts_forget`).
"""

from django.db import transaction
from django.db.models import Case, Count, DateTimeField, Exists, F, Max, Min, Value, When
from django.db.models.functions import Greatest, Least

from incidents.models import Incident, Trigger

FILL_BATCH = 200


def widened(*, first, last, reports: int = 0) -> dict:
    """Return the UPDATE values that widen an incident's bounds to [first, last].

    `reports` distinct reports are added to its count. PostgreSQL's LEAST skips a NULL
    where SQLite's MIN returns it: either way an unknown bound must stay unknown, so the
    NULL case is spelled out.
    """
    return {
        "first_received_at": _unless_null("first_received_at", Least, first),
        "last_received_at": _unless_null("last_received_at", Greatest, last),
        "report_count": F("report_count") + reports,
    }


def _unless_null(field: str, pick, at):
    return Case(
        When(**{f"{field}__isnull": False}, then=pick(F(field), Value(at))),
        default=None,
        output_field=DateTimeField(),
    )


def trigger_attached(incident_id, trigger) -> None:
    """Widen an incident's bounds to a sender's resolve or acknowledge just linked to it.

    Its report counts once more unless another of its triggers is on the incident
    already (a notification that fires one alert and resolves another). A report is
    counted by one worker (claimed), so none of its triggers is linked concurrently.
    """
    before = Trigger.objects.filter(
        incident_id=incident_id, report_id=trigger.report_id, received_at=trigger.received_at
    ).exclude(pk=trigger.pk)
    values = widened(first=trigger.received_at, last=trigger.received_at)
    values["report_count"] = F("report_count") + Case(
        When(Exists(before), then=Value(0)), default=Value(1)
    )
    Incident.objects.filter(pk=incident_id).update(**values)


def incident_bounds_fill(*, batch: int = FILL_BATCH) -> int:
    """Fill the bounds and report counts of incidents that have none; return how many.

    Each batch locks its incidents first (FOR UPDATE, skipping those a worker holds:
    the next batch takes them), then reads their triggers: a trigger a worker links
    meanwhile is either committed before the lock (and read) or counted by that
    worker's widening UPDATE after it. An incident with no trigger gets the empty
    bounds [opened_at, opened_at].
    """
    filled = 0
    while True:
        with transaction.atomic():
            incidents = list(
                Incident.objects.filter(first_received_at__isnull=True)
                .select_for_update(skip_locked=True)
                .order_by("id")
                .values_list("id", "opened_at")[:batch]
            )
            if not incidents:
                return filled
            figures = _trigger_figures([i for i, _ in incidents])
            for incident_id, opened_at in incidents:
                first, last, reports = figures.get(incident_id, (opened_at, opened_at, 0))
                Incident.objects.filter(pk=incident_id).update(
                    first_received_at=first, last_received_at=last, report_count=reports
                )
        filled += len(incidents)


def _trigger_figures(incident_ids) -> dict:
    """Return incident id -> (first, last received_at, distinct reports) of its triggers."""
    rows = (
        Trigger.objects.filter(incident_id__in=incident_ids)
        .order_by()
        .values("incident_id")
        .annotate(
            first=Min("received_at"),
            last=Max("received_at"),
            reports=Count("report_id", distinct=True),
        )
    )
    return {r["incident_id"]: (r["first"], r["last"], r["reports"]) for r in rows}


def incident_bounds_forget() -> int:
    """Forget every incident's bounds and count: read unbounded until filled again."""
    return Incident.objects.exclude(first_received_at__isnull=True).update(
        first_received_at=None, last_received_at=None, report_count=None
    )


def incident_bounds_left() -> int:
    """Return how many incidents have no bounds."""
    return Incident.objects.filter(first_received_at__isnull=True).count()
