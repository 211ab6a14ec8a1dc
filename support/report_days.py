"""The reports' response figures per closed day, counted once and summed in SQL.

A year's report read every incident of the year (3,000 on the seeded bank), its first
acknowledgement, its first page per team and its services, and averaged them in
Python: seconds per view, growing with the period. The incidents a day opened stop
changing once they are all resolved, so each such day's sums are stored once per
(kind, key) in `ResponseDayRow`s; a report sums the stored days in SQL and counts only
the days still moving (today, an incident still open, a reopen) from their incidents.

A stored day is checked against its incidents on every read (`Fingerprint`: how many,
how many still open, their reopens and latest resolution, one grouped query over the
period's incidents): a reopen or a late resolution recounts the day instead of
serving stale sums.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from actions.models import Action
from incidents.models import Incident, TimelineEvent
from notifications.models import Delivery, Team
from support.models import ResponseDay, ResponseDayRow
from support.summaries import SETTLE, incident_figures

ACTION = ResponseDayRow.Kind.ACTION
TEAM = ResponseDayRow.Kind.TEAM
SERVICE = ResponseDayRow.Kind.SERVICE


@dataclass(frozen=True)
class Fingerprint:
    """What a day's incidents look like now; a stored day is valid while it matches."""

    incidents: int
    unresolved: int
    reopens: int
    last_resolved_at: datetime | None


@dataclass
class Sums:
    """Additive figures of one (kind, key): means are sums over counts at the end."""

    incidents: int = 0
    acknowledged: int = 0
    ack_us: int = 0
    resolved: int = 0
    resolve_us: int = 0

    def add(self, other: "Sums"):
        self.incidents += other.incidents
        self.acknowledged += other.acknowledged
        self.ack_us += other.ack_us
        self.resolved += other.resolved
        self.resolve_us += other.resolve_us


@dataclass
class Totals:
    """A period's sums: per action id, per team id, per (service, week Monday)."""

    incidents: int = 0
    actions: dict = field(default_factory=lambda: defaultdict(Sums))
    teams: dict = field(default_factory=lambda: defaultdict(Sums))
    services: dict = field(default_factory=lambda: defaultdict(int))


def _us(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def monday_of(day: date) -> date:
    """Return the Monday of the day's week: the reports' weeks start on Mondays."""
    return day - timedelta(days=day.weekday())


def fingerprint_rows(start: datetime, end: datetime, tz):
    """Return the query of the per-day fingerprints of the incidents opened in [start, end)."""
    return (
        Incident.objects.filter(opened_at__gte=start, opened_at__lt=end)
        .annotate(day=TruncDate("opened_at", tzinfo=tz))
        .order_by()
        .values("day")
        .annotate(
            n=Count("id"),
            unresolved=Count("id", filter=~Q(status=Incident.Status.RESOLVED)),
            reopens=Sum("reopens"),
            last=Max("resolved_at"),
        )
    )


def fingerprints(start: datetime, end: datetime, tz) -> dict:
    """Return {local day: Fingerprint} of the incidents opened in [start, end)."""
    rows = fingerprint_rows(start, end, tz)
    return {
        r["day"]: Fingerprint(r["n"], r["unresolved"], r["reopens"] or 0, r["last"]) for r in rows
    }


def _incidents_of(days: list[date], tz) -> list[Incident]:
    start = datetime.combine(min(days), datetime.min.time(), tzinfo=tz)
    end = datetime.combine(max(days) + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    wanted = set(days)
    incidents = (
        Incident.objects.filter(opened_at__gte=start, opened_at__lt=end)
        .annotate(
            first_acknowledged_at=Min(
                "events__at", filter=Q(events__kind=TimelineEvent.Kind.ACKNOWLEDGED)
            )
        )
        .only(
            "id",
            "action_id",
            "status",
            "opened_at",
            "acknowledged_at",
            "resolved_at",
            "last_occurrence_at",  # the summaries' moment resolution, if counted
        )
        .order_by("opened_at")
    )
    return [i for i in incidents if timezone.localtime(i.opened_at, tz).date() in wanted]


def _sums(items) -> Sums:
    """Sum (incident, counted from) pairs: MTTA from `since`, MTTR from the opening."""
    sums = Sums()
    for incident, since in items:
        sums.incidents += 1
        acknowledged = incident.first_acknowledged_at or incident.acknowledged_at
        if acknowledged:
            sums.acknowledged += 1
            sums.ack_us += _us(max(acknowledged - since, timedelta()))
        if incident.resolved_at:
            sums.resolved += 1
            sums.resolve_us += _us(incident.resolved_at - incident.opened_at)
    return sums


def count_days(days: list[date], tz) -> dict:
    """Return {day: {(kind, key): Sums}} counted from the days' incidents."""
    incidents = _incidents_of(days, tz)
    by_id = {i.pk: i for i in incidents}
    figures = incident_figures(incidents, with_moments=False)
    groups = defaultdict(list)
    for incident in incidents:
        day = timezone.localtime(incident.opened_at, tz).date()
        groups[(day, ACTION, str(incident.action_id))].append((incident, incident.opened_at))
        for service in figures[incident.pk].services:
            groups[(day, SERVICE, service)].append((incident, incident.opened_at))
    first_pages = (
        Delivery.objects.filter(
            incident_id__in=by_id, purpose=Delivery.Purpose.PAGE, team__isnull=False
        )
        .values("incident_id", "team_id")
        .annotate(first=Min("created_at"))
    )
    for row in first_pages:
        incident = by_id[row["incident_id"]]
        day = timezone.localtime(incident.opened_at, tz).date()
        groups[(day, TEAM, str(row["team_id"]))].append((incident, row["first"]))
    result = defaultdict(dict)
    for (day, kind, key), items in groups.items():
        result[day][(kind, key)] = _sums(items)
    return result


def _freeze(zone: str, day: date, fingerprint: Fingerprint, sums: dict):
    """Store a closed day's sums; a concurrent reader storing it first wins."""
    try:
        with transaction.atomic():
            ResponseDay.objects.filter(zone=zone, day=day).delete()
            stored = ResponseDay.objects.create(
                zone=zone,
                day=day,
                incidents=fingerprint.incidents,
                reopens=fingerprint.reopens,
                last_resolved_at=fingerprint.last_resolved_at,
            )
            ResponseDayRow.objects.bulk_create(
                ResponseDayRow(
                    response_day=stored,
                    week=monday_of(day),
                    kind=kind,
                    key=key,
                    incidents=s.incidents,
                    acknowledged=s.acknowledged,
                    ack_us=s.ack_us,
                    resolved=s.resolved,
                    resolve_us=s.resolve_us,
                )
                for (kind, key), s in sums.items()
            )
    except IntegrityError:
        pass


def _closed(day: date, fingerprint: Fingerprint, *, today: date, now: datetime) -> bool:
    """Return whether the day's incidents can no longer change (short of a reopen)."""
    return (
        day < today
        and fingerprint.unresolved == 0
        and fingerprint.last_resolved_at is not None
        and fingerprint.last_resolved_at <= now - SETTLE
    )


def period_totals(start_day: date, end_day: date, *, now: datetime | None = None) -> Totals:
    """Return the sums of the incidents opened from `start_day` to `end_day` (inclusive)."""
    tz = timezone.get_current_timezone()
    zone = str(tz)
    now = now or timezone.now()
    today = timezone.localdate(now, tz)
    start = datetime.combine(start_day, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(end_day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    live = fingerprints(start, end, tz)
    days = {"zone": zone, "day__gte": start_day, "day__lte": end_day}
    stored = {
        day: Fingerprint(incidents, 0, reopens, last_resolved_at)
        for day, incidents, reopens, last_resolved_at in ResponseDay.objects.filter(
            **days
        ).values_list("day", "incidents", "reopens", "last_resolved_at")
    }
    stale = [day for day, print_ in stored.items() if live.get(day) != print_]
    moving = sorted(day for day in live if stored.get(day) != live[day])
    totals = Totals(incidents=sum(f.incidents for f in live.values()))
    # The stored days, summed by the database: a row per key (per week for services).
    # They are the period's stored days but those recounted below (a day another view
    # stores meanwhile is one of them: counted once), chosen in SQL: a year's 365 ids
    # as parameters cost more to bind than the sums.
    valid = ResponseDay.objects.filter(**days).exclude(day__in=[*stale, *moving])
    if len(stored) > len(stale):
        rows = (
            ResponseDayRow.objects.filter(response_day__in=valid)
            .exclude(kind=SERVICE)
            .order_by()
            .values("kind", "key")
            .annotate(
                n=Sum("incidents"),
                acknowledged=Sum("acknowledged"),
                ack_us=Sum("ack_us"),
                resolved=Sum("resolved"),
                resolve_us=Sum("resolve_us"),
            )
        )
        for r in rows:
            target = totals.actions if r["kind"] == ACTION else totals.teams
            target[r["key"]].add(
                Sums(r["n"], r["acknowledged"], r["ack_us"], r["resolved"], r["resolve_us"])
            )
        for r in (
            ResponseDayRow.objects.filter(response_day__in=valid, kind=SERVICE)
            .order_by()
            .values("key", "week")
            .annotate(n=Sum("incidents"))
        ):
            totals.services[(r["key"], r["week"])] += r["n"]
    if moving:
        counted = count_days(moving, tz)
        for day in moving:
            sums = counted.get(day, {})
            if _closed(day, live[day], today=today, now=now):
                _freeze(zone, day, live[day], sums)
            for (kind, key), s in sums.items():
                if kind == SERVICE:
                    totals.services[(key, monday_of(day))] += s.incidents
                else:
                    (totals.actions if kind == ACTION else totals.teams)[key].add(s)
    return totals


def labels(totals: Totals) -> tuple[dict, dict]:
    """Return ({action id: (code, label)}, {team id: name}) for the keys of `totals`."""
    actions = {
        str(a.pk): (a.code, str(a))
        for a in Action.objects.filter(pk__in=list(totals.actions)).only("id", "code", "name")
    }
    teams = {
        str(t.pk): t.name
        for t in Team.objects.filter(pk__in=[int(k) for k in totals.teams]).only("id", "name")
    }
    return actions, teams
