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

from incidents.models import Incident, TimelineEvent
from notifications.models import Delivery, PushRecord
from support import report_days
from support.models import DailySends
from support.summaries import incident_figures

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
        # A year is thousands of incidents: only what the figures read (the frozen
        # policy alone is a kilobyte of JSON each).
        .only(
            "id",
            "status",
            "opened_at",
            "acknowledged_at",
            "resolved_at",
            "last_occurrence_at",  # the summaries' moment resolution, if counted
            "action__id",
            "action__code",
            "action__name",
        )
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
    # Failures only, naming a service: the summaries count firing triggers' codes, and
    # a sender's acknowledge or resolve names no new service.
    figures = incident_figures(incidents, with_moments=False)
    counts = defaultdict(Counter)
    for incident in incidents:
        day = timezone.localtime(incident.opened_at).date()
        for service in figures[incident.pk].services:
            counts[service][day - timedelta(days=day.weekday())] += 1
    return {
        "weeks": weeks,
        "services": {s: [counts[s][w] for w in weeks] for s in sorted(counts)},
    }


SENT_KINDS = ("pages", "pushes", "all_clears")
# Sends of a day are final once it is this many days past (a late send is recorded
# at its own time, never in the past): yesterday and today are always counted live.
CLOSED_AFTER_DAYS = 2


def sent_per_week(period: Period, *, today: date | None = None) -> dict:
    """Return pages and pushes sent per week: {"weeks", "pages", "pushes", "all_clears"}."""
    weeks = weeks_of(period)
    per_day = sends_per_day(period, today=today)
    result = {"weeks": weeks}
    for kind in SENT_KINDS:
        by_week = Counter()
        for day, counts in per_day.items():
            by_week[day - timedelta(days=day.weekday())] += counts[kind]
        result[kind] = [by_week[w] for w in weeks]
    return result


def sends_per_day(period: Period, *, today: date | None = None) -> dict:
    """Return {day: {"pages", "pushes", "all_clears"}}: closed days from DailySends."""
    tz = timezone.get_current_timezone()
    zone = str(tz)
    today = today or timezone.localdate()
    closed_before = today - timedelta(days=CLOSED_AFTER_DAYS - 1)
    stored = {
        row.day: {kind: getattr(row, kind) for kind in SENT_KINDS}
        for row in DailySends.objects.filter(zone=zone, day__gte=period.start, day__lte=period.end)
    }
    days = [period.start + timedelta(days=n) for n in range((period.end - period.start).days + 1)]
    missing = [d for d in days if d not in stored]
    if not missing:
        return stored
    start = datetime.combine(min(missing), time.min, tzinfo=tz)
    end = datetime.combine(max(missing) + timedelta(days=1), time.min, tzinfo=tz)
    counted = {d: dict.fromkeys(SENT_KINDS, 0) for d in missing}

    def count(kind, queryset):
        for row in (
            queryset.filter(sent_at__gte=start, sent_at__lt=end)
            .annotate(day=TruncDate("sent_at", tzinfo=tz))
            .order_by()
            .values("day")
            # COUNT(*), not COUNT(id): the ledger's day index answers it without the table.
            .annotate(n=Count("*"))
        ):
            if row["day"] in counted:
                counted[row["day"]][kind] = row["n"]

    sent = PushRecord.objects.filter(status=PushRecord.Status.SENT)
    count(
        "pages",
        Delivery.objects.filter(purpose=Delivery.Purpose.PAGE, status=Delivery.Status.SENT),
    )
    count("pushes", sent.filter(purpose=PushRecord.Purpose.OUTAGE))
    count("all_clears", sent.filter(purpose=PushRecord.Purpose.ALL_CLEAR))
    DailySends.objects.bulk_create(
        [DailySends(zone=zone, day=d, **c) for d, c in counted.items() if d < closed_before],
        ignore_conflicts=True,
    )
    return {**stored, **counted}


def _sums_row(key: str, label: str, sums) -> Row:
    return Row(
        key=key,
        label=label,
        incidents=sums.incidents,
        acknowledged=sums.acknowledged,
        resolved=sums.resolved,
        mtta=timedelta(microseconds=sums.ack_us) / sums.acknowledged if sums.acknowledged else None,
        mttr=timedelta(microseconds=sums.resolve_us) / sums.resolved if sums.resolved else None,
    )


def report(period: Period) -> dict:
    """Return every figure of the reports page for one period.

    The same figures as `response_by_action`, `response_by_team` and
    `incidents_per_service_week` over the period's incidents, read from the stored sums
    of closed days (support/report_days.py) so a year costs about what a week does.
    """
    totals = report_days.period_totals(period.start, period.end)
    actions, teams = report_days.labels(totals)
    by_action = [
        _sums_row(*actions[key], sums) for key, sums in totals.actions.items() if key in actions
    ]
    by_team = [
        _sums_row(key, teams[key], sums) for key, sums in totals.teams.items() if key in teams
    ]
    weeks = weeks_of(period)
    services = sorted({service for service, _week in totals.services})
    return {
        "incidents": totals.incidents,
        "by_action": sorted(by_action, key=lambda r: r.key),
        "by_team": sorted(by_team, key=lambda r: r.label),
        "per_service": {
            "weeks": weeks,
            "services": {s: [totals.services.get((s, w), 0) for w in weeks] for s in services},
        },
        "sent": sent_per_week(period),
    }
