"""Reads of incidents for the API, the admin and the lifecycle."""

from datetime import datetime

from django.db.models import Q

from actions.models import TriggerRule
from actions.rule_codes import covers
from incidents.models import MaintenanceWindow, Report, Trigger
from incidents.models.recurrence import windows_overlapping


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
    """

    def __init__(self, incident):
        self.pairs = (
            Trigger.objects.filter(incident=incident)
            .order_by("-received_at", "-report_id")
            .values_list("received_at", "report_id")
            .distinct()
        )

    def count(self) -> int:
        return self.pairs.count()

    def __getitem__(self, page: slice) -> list[Report]:
        ids = [report_id for _at, report_id in self.pairs[page]]
        found = Report.objects.select_related("integration").in_bulk(ids)
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
