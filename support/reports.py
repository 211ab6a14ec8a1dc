"""Figures managers ask for: MTTA/MTTR per action and team, incidents per service and week.

Plain reads over one period. Response times are summed per closed day once
(support/report_days.py) and sends per closed day once (`DailySends`), so a year
costs about what a week does.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.models import Delivery, PushRecord
from support import report_days
from support.models import DailySends
from support.summaries import SETTLE

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


def period_of(preset: str, *, today: date) -> Period:
    """Return the days a preset covers; unknown presets are the last 7 days."""
    monday = report_days.monday_of(today)
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


def weeks_of(period: Period) -> list[date]:
    """Return the Mondays of the weeks the period touches."""
    monday = report_days.monday_of(period.start)
    weeks = []
    while monday <= period.end:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


SENT_KINDS = ("pages", "pushes", "all_clears")


def sends_final(day: date, tz, *, now: datetime) -> bool:
    """Return whether a day's send counts can no longer change.

    A send is stamped `sent_at` when the provider answered and committed right after
    (ledger rows, a page's delivery), never dated back: a day's counts are final once
    the day has ended, with SETTLE for a commit in flight. Yesterday is stored from
    00:05; only today is counted live (it was yesterday too: 140,000 ledger entries
    read on every report after a storm).
    """
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz) <= now - SETTLE


def sent_per_week(period: Period, *, now: datetime | None = None) -> dict:
    """Return pages and pushes sent per week: {"weeks", "pages", "pushes", "all_clears"}."""
    weeks = weeks_of(period)
    per_day = sends_per_day(period, now=now)
    result = {"weeks": weeks}
    for kind in SENT_KINDS:
        by_week = Counter()
        for day, counts in per_day.items():
            by_week[report_days.monday_of(day)] += counts[kind]
        result[kind] = [by_week[w] for w in weeks]
    return result


def sends_per_day(period: Period, *, now: datetime | None = None) -> dict:
    """Return {day: {"pages", "pushes", "all_clears"}}: final days from DailySends."""
    tz = timezone.get_current_timezone()
    zone = str(tz)
    now = now or timezone.now()
    stored = {
        day: dict(zip(SENT_KINDS, counts, strict=True))
        for day, *counts in DailySends.objects.filter(
            zone=zone, day__gte=period.start, day__lte=period.end
        ).values_list("day", *SENT_KINDS)
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
        [
            DailySends(zone=zone, day=d, **c)
            for d, c in counted.items()
            if sends_final(d, tz, now=now)
        ],
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

    MTTA (from the opening for an action, from the team's first page for a team) and
    MTTR per action and team, and incidents per service and week, summed from the
    stored sums of closed days and the live days' incidents (support/report_days.py)
    so a year costs about what a week does.
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
