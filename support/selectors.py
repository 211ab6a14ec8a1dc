"""Reads behind the support pages: incident search, one incident's story, its chart."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Prefetch, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from actions.models import TriggerRule
from incidents.models import Incident, TimelineEvent, Trigger
from incidents.models.policy import Policy
from incidents.outreach.paging import page_cancel_reason
from incidents.selectors import incidents_filter
from notifications.models import Delivery
from oncall.selectors import person_name
from support.chart import Chart, occurrence_chart
from support.held import REASONS, batch_held
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
    start, end = period_range(period, now=now or timezone.now())
    return incidents_filter(
        incidents,
        status=status,
        service=service,
        action=action,
        opened_from=start,
        opened_before=end,
        q=q,
    )


@dataclass(frozen=True)
class Reach:
    """Whom an incident's outage push reached: devices sent to, and their customers."""

    pushed: bool  # the push was queued (the threshold was crossed)
    devices: int
    customers: int
    all_clear_devices: int


def incident_reach(incidents, figures: dict | None = None) -> dict:
    """Return {incident id: Reach} for `incidents`, from their summaries (or one count).

    Reach needs no chart: the summaries are read without their moments (a long
    incident's are thousands of pairs, decoded for nothing on every list page).
    """
    incidents = list(incidents)
    figures = figures or incident_figures(incidents, with_moments=False)
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
    # A page to one person on call: who, and when this step of theirs is due.
    person: str = ""
    due_at: datetime | None = None
    reopened: bool = False  # the page saying the incident reopened


def incident_pages(incident: Incident) -> list[Page]:
    """Return who was paged for an incident, and when, tier by tier."""
    tiers = {t.level: t.name for t in Policy.from_json(incident.policy).tiers}
    deliveries = (
        incident.deliveries.filter(purpose=Delivery.Purpose.PAGE)
        .select_related("team", "channel", "person", "contact_method")
        .order_by("tier_level", "due_at", "created_at")
    )
    return [
        Page(
            level=d.tier_level,
            tier=tiers.get(d.tier_level, ""),
            team=str(d.team) if d.team else "-",
            channel=_by_what(d),
            status=d.status,
            status_label=d.get_status_display(),
            attempts=d.attempts,
            queued_at=d.created_at,
            sent_at=d.sent_at,
            last_error=page_cancel_reason(d.last_error),
            person=person_name(d.person) if d.person else "",
            due_at=d.due_at if d.due_at > d.created_at else None,
            reopened=":o" in d.key,  # page:<incident>:<level>:<channel>[:r<k>]:o<generation>
        )
        for d in deliveries
    ]


def people_names(usernames) -> dict[str, str]:
    """Return {username: full name} for the people among `usernames` who have a full name."""
    users = get_user_model().objects.filter(username__in={u for u in usernames if u})
    return {u.get_username(): u.get_full_name() for u in users if u.get_full_name()}


def _by_what(delivery: Delivery) -> str:
    if delivery.person_id:
        method = delivery.contact_method
        return f"{method.get_kind_display()} {method.masked_address}" if method else "-"
    return delivery.channel.kind if delivery.channel else "-"


def tiers_oncall(tiers, *, now) -> dict[int, list]:
    """Return {tier level: [people on call now]} for the tiers (policy Tiers) paging a schedule."""
    from oncall.selectors import oncall_now_by_schedule

    paging = [t for t in tiers if t.schedule_id and t.target != "team"]
    by_schedule = oncall_now_by_schedule([t.schedule_id for t in paging], now)
    return {t.level: by_schedule.get(t.schedule_id, []) for t in paging}


def push_progress(incident: Incident, *, now: datetime | None = None) -> list[PushProgress]:
    """Count an incident's push, fallback and all-clear batches and devices by status.

    Pending batches due later are counted apart as held, one row per reason with
    the first moment one of them goes (`support.held`).
    """
    now = now or timezone.now()
    result = []
    for purpose in (Delivery.Purpose.PUSH, Delivery.Purpose.FALLBACK, Delivery.Purpose.ALL_CLEAR):
        batches, devices, due = Counter(), Counter(), {}
        for delivery in incident.deliveries.filter(purpose=purpose).only(
            "status", "recipients", "due_at", "quiet_hours", "attempts", "rate_slot_at"
        ):
            held = batch_held(delivery, now=now)
            key = f"held:{held.reason}" if held else delivery.status
            if held:
                due[key] = min(due.get(key, held.due_at), held.due_at)
            batches[key] += 1
            devices[key] += len(delivery.recipients)
        if batches:
            rows = [
                {
                    "status": "held",
                    "label": _("Held"),
                    "reason": REASONS[key.removeprefix("held:")],
                    "due_at": due[key],
                    "batches": batches[key],
                    "devices": devices[key],
                }
                for key in sorted(k for k in batches if k.startswith("held:"))
            ]
            rows += [
                {"status": s.value, "label": s.label, "batches": batches[s], "devices": devices[s]}
                for s in Delivery.Status
                if batches[s]
            ]
            result.append(
                PushProgress(
                    purpose=purpose,
                    label=purpose.label,
                    rows=rows,
                    total_devices=sum(devices.values()),
                )
            )
    return result


def incident_counts(incident: Incident, figures: Figures | None = None) -> dict:
    """Count an incident's failures received (firing triggers) by code, and apart from
    them the sender's acknowledges and resolves, from its summary (or counted)."""
    figures = figures or incident_figures([incident])[incident.pk]
    return {
        "occurrences": incident.occurrences,
        "triggers": figures.triggers,
        "codes": [{"service": c["service"], "code": c["code"], "n": c["n"]} for c in figures.codes],
        "sender_states": [
            {"status": Trigger.Status(row["status"]).label, "n": row["n"]}
            for row in figures.sender_states
        ],
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
    # Every acknowledgement and resolution, from the timeline: an acknowledgement that
    # timed out or a resolution undone by a reopen clears the incident's field, not the
    # moment it happened.
    marked = {
        TimelineEvent.Kind.ACKNOWLEDGED: ("acknowledged", _("Acknowledged")),
        TimelineEvent.Kind.ACK_EXPIRED: ("ack_expired", _("Acknowledgement timed out")),
        TimelineEvent.Kind.SILENCED: ("silenced", _("Silenced")),
        TimelineEvent.Kind.RESOLVED: ("resolved", _("Resolved")),
    }
    for kind, at in incident.events.filter(kind__in=marked).values_list("kind", "at"):
        markers.append((at, marked[kind][0], str(marked[kind][1])))
    if incident.acknowledged_at and not any(m[1] == "acknowledged" for m in markers):
        markers.append((incident.acknowledged_at, "acknowledged", str(_("Acknowledged"))))
    if incident.resolved_at and not any(m[1] == "resolved" for m in markers):
        markers.append((incident.resolved_at, "resolved", str(_("Resolved"))))
    for at in incident.events.filter(
        kind=TimelineEvent.Kind.REOPENED, params__m="reopened"
    ).values_list("at", flat=True):
        markers.append((at, "reopened", str(_("Reopened"))))
    end = incident.resolved_at or now or timezone.now()
    return occurrence_chart(
        times, weights=weights, start=incident.opened_at, end=end, markers=markers
    )
