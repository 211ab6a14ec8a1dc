"""Reads of incidents for the API, the admin and the lifecycle."""

import uuid
from datetime import datetime

from django.db.models import Q

from actions.models import TriggerRule
from actions.rule_codes import covers
from incidents.models import Incident, MaintenanceWindow, Report, Trigger
from incidents.models.recurrence import windows_overlapping
from notifications.models import PushRecord


def maintenance_covering(action_id, *, now) -> MaintenanceWindow | None:
    """Return the active maintenance window on the action or one of its services.

    When windows overlap, the one ending last: the incident is held until then.
    """
    services = TriggerRule.objects.filter(action_id=action_id).values("service_id")
    return (
        windows_overlapping(now)
        .filter(Q(action_id=action_id) | Q(service_id__in=services))
        .order_by("-ends_at")
        .first()
    )


def unmatched_triggers(*, service: str, code: str, since):
    """Firing triggers of a service/code that no action covered and nobody re-processed."""
    return Trigger.objects.filter(
        service=service,
        code=code,
        status=Trigger.Status.FIRING,
        matched=False,
        incident=None,
        reprocessed_at=None,
        received_at__gte=since,
    )


class IncidentReports:
    """An incident's reports newest first, as a sliceable, countable sequence.

    A storm's incident has 100,000 reports: joining reports to triggers and taking
    DISTINCT read all of them for a page of 5. A trigger carries its report's
    received_at, so the pairs (received_at, report) of the incident's triggers, in
    the order of the index `trigger_incident_reports`, are the reports newest first;
    a page is a LIMIT/OFFSET over that index, then one lookup of the page's reports.

    On PostgreSQL both tables are partitioned by day of received_at, not by incident:
    unbounded, each read is planned over every day of the year (25-50 ms of planning
    for 2 ms of work). So the pairs are bounded by the incident's trigger bounds, and
    the reports by the page's own times, both as values the planner prunes with. The
    bounds are exact, not a guess from opened_at (a trigger can join an incident
    after later ones: concurrent workers, a re-run batch, triage re-processing, a
    sender's late resolve): every statement that links a trigger to an incident
    widens them in the same transaction (incidents.counting.bounds). The count is
    the incident's `report_count`, kept the same way; NULL bounds or count (an older
    incident, or one retention pruned) read the triggers.
    """

    def __init__(self, incident):
        self.incident = incident
        triggers = Trigger.objects.filter(incident=incident)
        if incident.first_received_at is not None and incident.last_received_at is not None:
            triggers = triggers.received_within(
                [incident.first_received_at, incident.last_received_at]
            )
        self.pairs = (
            triggers.order_by("-received_at", "-report_id")
            .values_list("received_at", "report_id")
            .distinct()
        )

    def count(self) -> int:
        if self.incident.report_count is not None:
            return self.incident.report_count
        return self.pairs.count()

    def __getitem__(self, page: slice) -> list[Report]:
        pairs = list(self.pairs[page])
        if not pairs:
            return []
        ids = [report_id for _at, report_id in pairs]
        found = (
            Report.objects.select_related("integration")
            .received_within(at for at, _report_id in pairs)
            .in_bulk(ids)
        )
        return [found[i] for i in ids if i in found]


def incident_reports(incident, *, limit=50) -> list[Report]:
    """Return the latest reports whose triggers count toward or ended the incident."""
    return IncidentReports(incident)[:limit]


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


def incidents_filter(
    incidents,
    *,
    status: str = "",
    service: str = "",
    action: str = "",
    opened_from: datetime | None = None,
    opened_before: datetime | None = None,
    q: str = "",
):
    """Narrow incidents by status, service slug, action code, opening time and free text.

    The one search behind the API's list and the support pages. A service and the
    text narrow by a semi-join (`id IN (subquery)`), so an action with several
    rules does not repeat its incidents and no DISTINCT is needed.
    """
    if status:
        incidents = incidents.filter(status=status)
    if service:
        incidents = incidents.filter(
            id__in=Incident.objects.filter(action__rules__service__slug=service.lower()).values(
                "id"
            )
        )
    if action:
        incidents = incidents.filter(action__code=action)
    if opened_from:
        incidents = incidents.filter(opened_at__gte=opened_from)
    if opened_before:
        incidents = incidents.filter(opened_at__lt=opened_before)
    if q := q.strip():
        match = (
            Q(action__code__icontains=q)
            | Q(action__name__icontains=q)
            | Q(action__rules__service__slug__icontains=q)
            | Q(action__rules__service__name__icontains=q)
            | Q(acknowledged_by__icontains=q)
            | Q(resolved_by__icontains=q)
            # A customer's external id: the incidents that pushed (or tried) to them.
            | Q(id__in=PushRecord.objects.filter(customer_ref=q).values("incident_id"))
        )
        if incident_id := _as_uuid(q):
            match |= Q(id=incident_id)
        incidents = incidents.filter(id__in=Incident.objects.filter(match).values("id"))
    return incidents.order_by("-opened_at")


def _as_uuid(text: str) -> uuid.UUID | None:
    """Return `text` as an incident id (pasted with or without dashes, or from a URL)."""
    try:
        return uuid.UUID(text.rstrip("/").rsplit("/", 1)[-1])
    except ValueError:
        return None
