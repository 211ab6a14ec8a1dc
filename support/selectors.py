"""Reads behind the support pages: incident search, one incident's story, its chart."""

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count, Max, Prefetch, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from actions.models import TriggerRule
from incidents.models import Incident
from notifications.models import Delivery, PushRecord
from support.chart import Chart, occurrence_chart
from support.summaries import Figures, incident_figures, moments_as_times

PERIODS = {
    "today": _("Today"),
    "yesterday": _("Yesterday"),
    "2d": _("Yesterday and today"),
    "7d": _("Last 7 days"),
    "30d": _("Last 30 days"),
}


def period_range(period: str, *, now: datetime) -> tuple[datetime | None, datetime | None]:
    """Return the [start, end) of a period preset in the current time zone."""
    tz = timezone.get_current_timezone()
    today = datetime.combine(timezone.localtime(now, tz).date(), time.min, tzinfo=tz)
    day = timedelta(days=1)
    return {
        "today": (today, None),
        "yesterday": (today - day, today),
        "2d": (today - day, None),
        "7d": (today - 6 * day, None),
        "30d": (today - 29 * day, None),
    }.get(period, (None, None))


def incident_search(
    *,
    status: str = "",
    service: str = "",
    action: str = "",
    period: str = "",
    q: str = "",
    now: datetime | None = None,
):
    """Return incidents matching the filters, newest first, with their services prefetched."""
    incidents = Incident.objects.select_related("action").prefetch_related(
        Prefetch(
            "action__rules",
            queryset=TriggerRule.objects.select_related("service").order_by("service__slug"),
        )
    )
    if status:
        incidents = incidents.filter(status=status)
    if service:
        incidents = incidents.filter(
            id__in=Incident.objects.filter(action__rules__service__slug=service).values("id")
        )
    if action:
        incidents = incidents.filter(action__code=action)
    start, end = period_range(period, now=now or timezone.now())
    if start:
        incidents = incidents.filter(opened_at__gte=start)
    if end:
        incidents = incidents.filter(opened_at__lt=end)
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


@dataclass(frozen=True)
class Reach:
    """Whom an incident's outage push reached: devices sent to, and their customers."""

    pushed: bool  # the push was queued (the threshold was crossed)
    devices: int
    customers: int
    all_clear_devices: int


def incident_reach(incidents) -> dict:
    """Return {incident id: Reach} for `incidents`, from their summaries (or one count)."""
    incidents = list(incidents)
    figures = incident_figures(incidents)
    return {
        i.pk: Reach(
            pushed=i.push_queued_at is not None,
            devices=figures[i.pk].outage_devices,
            customers=figures[i.pk].outage_customers,
            all_clear_devices=figures[i.pk].all_clear_devices,
        )
        for i in incidents
    }


def incident_duration(incident: Incident, *, now: datetime) -> timedelta:
    """Return how long the incident lasted (or has lasted so far)."""
    return (incident.resolved_at or now) - incident.opened_at


def recent_services(*, now: datetime) -> list[dict]:
    """Return services with incidents yesterday or today: the list page's shortcuts."""
    start, _ = period_range("2d", now=now)
    rows = (
        TriggerRule.objects.filter(action__incidents__opened_at__gte=start)
        .values("service__slug", "service__name")
        .annotate(incidents=Count("action__incidents", distinct=True))
        .order_by("service__slug")
    )
    return [
        {"slug": r["service__slug"], "name": r["service__name"], "incidents": r["incidents"]}
        for r in rows
    ]


def incidents_version() -> str:
    """Return a short string that changes whenever the incident list would."""
    agg = Incident.objects.aggregate(
        n=Count("id"),
        last=Max("last_occurrence_at"),
        occ=Sum("occurrences", filter=~Q(status=Incident.Status.RESOLVED)),
        settled=Count("id", filter=~Q(status=Incident.Status.OPEN)),
    )
    last = agg["last"].isoformat() if agg["last"] else "-"
    return f"{agg['n']}:{last}:{agg['occ'] or 0}:{agg['settled']}"


def incident_version(incident: Incident) -> str:
    """Return a short string that changes whenever the incident page would."""
    events = incident.events.aggregate(n=Count("id"))["n"]
    return f"{incident.status}:{incident.occurrences}:{events}"


@dataclass
class PushProgress:
    purpose: str
    label: str
    rows: list[dict]  # one per delivery status: status, label, batches, devices
    total_devices: int


@dataclass
class Page:
    level: int | None
    tier: str
    team: str
    channel: str
    status: str
    status_label: str
    attempts: int
    queued_at: datetime
    sent_at: datetime | None
    last_error: str


def incident_pages(incident: Incident) -> list[Page]:
    """Return who was paged for an incident, and when, tier by tier."""
    tiers = {t["level"]: t["name"] for t in incident.policy.get("tiers", [])}
    deliveries = (
        incident.deliveries.filter(purpose=Delivery.Purpose.PAGE)
        .select_related("team", "channel")
        .order_by("tier_level", "created_at")
    )
    return [
        Page(
            level=d.tier_level,
            tier=tiers.get(d.tier_level, ""),
            team=str(d.team) if d.team else "-",
            channel=d.channel.kind if d.channel else "-",
            status=d.status,
            status_label=d.get_status_display(),
            attempts=d.attempts,
            queued_at=d.created_at,
            sent_at=d.sent_at,
            last_error=d.last_error,
        )
        for d in deliveries
    ]


def push_progress(incident: Incident) -> list[PushProgress]:
    """Count an incident's customer push and all-clear batches and devices by status."""
    result = []
    for purpose in (Delivery.Purpose.PUSH, Delivery.Purpose.ALL_CLEAR):
        batches, devices = Counter(), Counter()
        for status, recipients in incident.deliveries.filter(purpose=purpose).values_list(
            "status", "recipients"
        ):
            batches[status] += 1
            devices[status] += len(recipients)
        if batches:
            result.append(
                PushProgress(
                    purpose=purpose,
                    label=purpose.label,
                    rows=[
                        {
                            "status": s.value,
                            "label": s.label,
                            "batches": batches[s],
                            "devices": devices[s],
                        }
                        for s in Delivery.Status
                        if batches[s]
                    ],
                    total_devices=sum(devices.values()),
                )
            )
    return result


def incident_counts(incident: Incident, figures: Figures | None = None) -> dict:
    figures = figures or incident_figures([incident])[incident.pk]
    return {
        "occurrences": incident.occurrences,
        "triggers": figures.triggers,
        "codes": [{"service": c["service"], "code": c["code"], "n": c["n"]} for c in figures.codes],
    }


def incident_chart(
    incident: Incident, figures: Figures | None = None, *, now: datetime | None = None
) -> Chart:
    """Chart an incident's occurrences (one per report) with pushes and pages marked."""
    figures = figures or incident_figures([incident])[incident.pk]
    times, weights = moments_as_times(figures.moments)
    markers = []
    if incident.push_queued_at:
        markers.append((incident.push_queued_at, "push", str(_("Push"))))
    # A tier pages through several channels at once: its first page row marks the moment.
    paged = {}
    for level, at in (
        incident.deliveries.filter(purpose=Delivery.Purpose.PAGE)
        .order_by("created_at")
        .values_list("tier_level", "created_at")
    ):
        paged.setdefault(level, at)
    for level, at in paged.items():
        markers.append((at, "page", str(_("Tier %(level)s") % {"level": level})))
    if incident.acknowledged_at:
        markers.append((incident.acknowledged_at, "acknowledged", str(_("Acknowledged"))))
    if incident.resolved_at:
        markers.append((incident.resolved_at, "resolved", str(_("Resolved"))))
    end = incident.resolved_at or now or timezone.now()
    return occurrence_chart(
        times, weights=weights, start=incident.opened_at, end=end, markers=markers
    )
