"""Figures managers ask for: MTTA/MTTR per action and team, incidents per service and week.

Plain reads over one period. Incidents of a period are few (hundreds, not
millions), so durations are averaged in Python where it keeps SQL portable
between SQLite and PostgreSQL.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident, TimelineEvent, Trigger
from notifications.models import Delivery, PushRecord

PRESETS = {
    "last_week": _("Last week (Mon–Sun)"),
    "this_week": _("This week"),
    "7d": _("Last 7 days"),
    "30d": _("Last 30 days"),
    "90d": _("Last 90 days"),
}
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    start: date  # first day, local
    end: date  # last day, local, inclusive

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        tz = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz),
        )


def period_of(preset: str, *, today: date) -> Period:
    """Return the days a preset covers; unknown presets are the last 7 days."""
    monday = today - timedelta(days=today.weekday())
    return {
        "last_week": Period(monday - timedelta(days=7), monday - timedelta(days=1)),
        "this_week": Period(monday, today),
        "30d": Period(today - timedelta(days=29), today),
        "90d": Period(today - timedelta(days=89), today),
    }.get(preset, Period(today - timedelta(days=6), today))


@dataclass(frozen=True)
class Row:
    """One line of a response-time table: who, how many, and the means."""

    key: str
    label: str
    incidents: int
    acknowledged: int
    resolved: int
    mtta: timedelta | None
    mttr: timedelta | None


def _mean(values: list[timedelta]) -> timedelta | None:
    return sum(values, timedelta()) / len(values) if values else None


def _row(key, label, items) -> Row:
    """Build a row from (incident, paged_at) pairs; MTTA counts from the page (or opening)."""
    acks = [_first_ack(i) - since for i, since in items if _first_ack(i)]
    fixes = [i.resolved_at - i.opened_at for i, _since in items if i.resolved_at]
    return Row(
        key=key,
        label=label,
        incidents=len(items),
        acknowledged=len(acks),
        resolved=len(fixes),
        mtta=_mean([max(a, timedelta()) for a in acks]),
        mttr=_mean(fixes),
    )


def _first_ack(incident) -> datetime | None:
    """Return the first acknowledgement, kept by the timeline past an ack timeout or a reopen."""
    return getattr(incident, "first_acknowledged_at", None) or incident.acknowledged_at


def _incidents(period: Period):
    start, end = period.bounds
    return list(
        Incident.objects.filter(opened_at__gte=start, opened_at__lt=end)
        .annotate(
            first_acknowledged_at=Min(
                "events__at", filter=Q(events__kind=TimelineEvent.Kind.ACKNOWLEDGED)
            )
        )
        .select_related("action")
        .order_by("opened_at")
    )


def response_by_action(incidents) -> list[Row]:
    """Return MTTA (opening to acknowledgement) and MTTR (opening to resolution) per action."""
    groups = defaultdict(list)
    for incident in incidents:
        groups[incident.action].append((incident, incident.opened_at))
    return sorted((_row(a.code, str(a), items) for a, items in groups.items()), key=lambda r: r.key)


def response_by_team(incidents) -> list[Row]:
    """Return MTTA and MTTR per team paged: MTTA counts from the team's first page."""
    by_id = {i.pk: i for i in incidents}
    first_pages = (
        Delivery.objects.filter(
            incident_id__in=by_id, purpose=Delivery.Purpose.PAGE, team__isnull=False
        )
        .values("incident_id", "team_id", "team__name")
        .annotate(first=Min("created_at"))
    )
    groups, names = defaultdict(list), {}
    for row in first_pages:
        names[row["team_id"]] = row["team__name"]
        groups[row["team_id"]].append((by_id[row["incident_id"]], row["first"]))
    return sorted(
        (_row(str(team), names[team], items) for team, items in groups.items()),
        key=lambda r: r.label,
    )


def weeks_of(period: Period) -> list[date]:
    """Return the Mondays of the weeks the period touches."""
    monday = period.start - timedelta(days=period.start.weekday())
    weeks = []
    while monday <= period.end:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def incidents_per_service_week(incidents, period: Period) -> dict:
    """Return {"weeks": [...], "services": {slug: [count per week]}} from the triggers seen."""
    weeks = weeks_of(period)
    opened = {i.pk: timezone.localtime(i.opened_at).date() for i in incidents}
    pairs = (
        # Failures only: a sender's acknowledge or resolve names no new service.
        Trigger.objects.filter(incident_id__in=opened, status=Trigger.Status.FIRING)
        .exclude(service="")
        .order_by()  # the default ordering would make DISTINCT keep every trigger
        .values_list("incident_id", "service")
        .distinct()
    )
    counts = defaultdict(Counter)
    for incident_id, service in pairs:
        day = opened[incident_id]
        counts[service][day - timedelta(days=day.weekday())] += 1
    return {
        "weeks": weeks,
        "services": {s: [counts[s][w] for w in weeks] for s in sorted(counts)},
    }


def sent_per_week(period: Period) -> dict:
    """Return pages and pushes sent per week: {"weeks", "pages", "pushes", "all_clears"}."""
    weeks = weeks_of(period)
    start, end = period.bounds
    tz = timezone.get_current_timezone()

    def weekly(queryset, field: str) -> list[int]:
        per_day = (
            queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})
            .annotate(day=TruncDate(field, tzinfo=tz))
            .values("day")
            .annotate(n=Count("id"))
        )
        by_week = Counter()
        for row in per_day:
            by_week[row["day"] - timedelta(days=row["day"].weekday())] += row["n"]
        return [by_week[w] for w in weeks]

    sent = PushRecord.objects.filter(status=PushRecord.Status.SENT)
    return {
        "weeks": weeks,
        "pages": weekly(
            Delivery.objects.filter(purpose=Delivery.Purpose.PAGE, status=Delivery.Status.SENT),
            "sent_at",
        ),
        "pushes": weekly(sent.filter(purpose=PushRecord.Purpose.OUTAGE), "sent_at"),
        "all_clears": weekly(sent.filter(purpose=PushRecord.Purpose.ALL_CLEAR), "sent_at"),
    }


def report(period: Period) -> dict:
    """Return every figure of the reports page for one period."""
    incidents = _incidents(period)
    return {
        "incidents": len(incidents),
        "by_action": response_by_action(incidents),
        "by_team": response_by_team(incidents),
        "per_service": incidents_per_service_week(incidents, period),
        "sent": sent_per_week(period),
    }
