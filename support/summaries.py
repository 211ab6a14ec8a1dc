"""Figures of incidents counted from their triggers and push ledger, frozen once resolved.

An incident of a storm has 100,000 triggers and its push a million ledger rows; the
support pages show, per incident, how many triggers of which codes, when they came
(the chart) and whom the push reached. Counted live these cost a scan per view; a
resolved incident's rows no longer change, so its figures are counted once and kept
in an `IncidentSummary`. Open incidents (a handful at any time) are counted live.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncMinute, TruncSecond
from django.utils import timezone

from incidents.models import Incident, Trigger
from notifications.models import Delivery, PushRecord
from support.models import IncidentSummary

# A resolution this recent may still have its all-clear being queued or sent.
SETTLE = timedelta(minutes=5)
# Moments are kept per second; an incident longer than this per minute (its chart's
# buckets are 5 minutes or more then), so a week-long incident stays ~10,000 moments.
SECOND_RESOLUTION_SPAN = timedelta(hours=1)
PUSH_PURPOSES = [Delivery.Purpose.PUSH, Delivery.Purpose.ALL_CLEAR, Delivery.Purpose.FALLBACK]
UNFINISHED = [Delivery.Status.PENDING, Delivery.Status.SENDING]


@dataclass(frozen=True)
class Figures:
    triggers: int  # firing triggers: failures received
    codes: list[dict]  # {"service", "code", "n"} of the firing triggers, most first
    moments: list[tuple[int, int]]  # (epoch second, reports), oldest first
    outage_devices: int
    outage_customers: int
    all_clear_devices: int
    # A sender's acknowledge or resolve: on the history, not a failure received.
    sender_states: list[dict]  # {"status" (a Trigger.Status value), "n"}, by status

    @property
    def services(self) -> list[str]:
        """The services named by the incident's failures (a trigger may name none)."""
        return sorted({c["service"] for c in self.codes if c["service"]})

    @classmethod
    def from_summary(cls, summary: IncidentSummary, *, with_moments: bool = True) -> "Figures":
        return cls(
            triggers=summary.triggers,
            codes=summary.codes,
            moments=[tuple(m) for m in summary.moments] if with_moments else [],
            outage_devices=summary.outage_devices,
            outage_customers=summary.outage_customers,
            all_clear_devices=summary.all_clear_devices,
            sender_states=summary.sender_states,
        )


def incident_figures(incidents, *, with_moments: bool = True, now=None) -> dict:
    """Return {incident id: Figures}, from summaries where frozen, else counted (and frozen).

    `with_moments=False` leaves the chart's input out of stored summaries (a year's
    report reads thousands of them and draws no incident chart).
    """
    incidents = list(incidents)
    now = now or timezone.now()
    summaries = IncidentSummary.objects.filter(incident_id__in=[i.pk for i in incidents])
    if not with_moments:
        summaries = summaries.defer("moments")
    stored = {s.incident_id: s for s in summaries}
    figures, missing = {}, []
    for incident in incidents:
        summary = stored.get(incident.pk)
        if summary and incident.is_resolved and summary.resolved_at == incident.resolved_at:
            figures[incident.pk] = Figures.from_summary(summary, with_moments=with_moments)
        else:
            missing.append(incident)
    if missing:
        counted = _count(missing)
        figures.update(counted)
        _freeze([i for i in missing if _settled(i, now)], counted)
    return figures


def _settled(incident: Incident, now) -> bool:
    return (
        incident.is_resolved
        and incident.resolved_at is not None
        and incident.resolved_at <= now - SETTLE
    )


def _freeze(incidents: list[Incident], counted: dict):
    """Store the figures of resolved incidents whose pushes are all finished."""
    if not incidents:
        return
    busy = set(
        Delivery.objects.filter(
            incident_id__in=[i.pk for i in incidents],
            purpose__in=PUSH_PURPOSES,
            status__in=UNFINISHED,
        ).values_list("incident_id", flat=True)
    )
    for incident in incidents:
        if incident.pk in busy:
            continue
        f = counted[incident.pk]
        IncidentSummary.objects.update_or_create(
            incident=incident,
            defaults={
                "resolved_at": incident.resolved_at,
                "triggers": f.triggers,
                "codes": f.codes,
                "moments": f.moments,
                "outage_devices": f.outage_devices,
                "outage_customers": f.outage_customers,
                "all_clear_devices": f.all_clear_devices,
                "sender_states": f.sender_states,
            },
        )


def _count(incidents: list[Incident]) -> dict:
    ids = [i.pk for i in incidents]
    codes = {pk: [] for pk in ids}
    states = {pk: [] for pk in ids}
    for row in (
        Trigger.objects.filter(incident_id__in=ids)
        .order_by()
        .values("incident_id", "status", "service", "code")
        .annotate(n=Count("id"))
    ):
        if row["status"] == Trigger.Status.FIRING:
            codes[row["incident_id"]].append(
                {"service": row["service"], "code": row["code"], "n": row["n"]}
            )
        else:
            # A sender's acknowledge or resolve is listed apart, under what it is.
            states[row["incident_id"]].append({"status": row["status"], "n": row["n"]})
    sent = {
        (row["incident_id"], row["purpose"]): row
        for row in PushRecord.objects.filter(incident_id__in=ids, status=PushRecord.Status.SENT)
        .order_by()
        .values("incident_id", "purpose")
        # A device told again after a reopen (another generation) is still one device;
        # an SMS / e-mail fallback row has none and counts as one.
        .annotate(
            devices=Count("device", distinct=True) + Count("id", filter=Q(device__isnull=True)),
            customers=Count("customer_ref", distinct=True),
        )
    }
    chart = _moments(incidents)
    empty = {"devices": 0, "customers": 0}
    result = {}
    for pk in ids:
        outage = sent.get((pk, PushRecord.Purpose.OUTAGE), empty)
        ordered = sorted(codes[pk], key=lambda c: (-c["n"], c["code"], c["service"]))
        result[pk] = Figures(
            triggers=sum(c["n"] for c in ordered),
            codes=ordered,
            moments=chart.get(pk, []),
            outage_devices=outage["devices"],
            outage_customers=outage["customers"],
            all_clear_devices=sent.get((pk, PushRecord.Purpose.ALL_CLEAR), empty)["devices"],
            sender_states=_merged_states(states[pk]),
        )
    return result


def _merged_states(rows: list[dict]) -> list[dict]:
    """Return [{"status", "n"}] one per status, in status order (rows came per code)."""
    totals = {}
    for row in rows:
        totals[row["status"]] = totals.get(row["status"], 0) + row["n"]
    return [{"status": status, "n": n} for status, n in sorted(totals.items())]


def _moments(incidents: list[Incident]) -> dict:
    """Return {incident id: [(epoch second, reports)]}: one query per resolution."""
    short = [i.pk for i in incidents if _span(i) <= SECOND_RESOLUTION_SPAN]
    long = [i.pk for i in incidents if _span(i) > SECOND_RESOLUTION_SPAN]
    result = {}
    for ids, trunc in ((short, TruncSecond), (long, TruncMinute)):
        if not ids:
            continue
        rows = (
            Trigger.objects.filter(incident_id__in=ids)
            .annotate(moment=trunc("received_at", tzinfo=UTC))
            .order_by()
            .values("incident_id", "moment")
            .annotate(n=Count("report_id", distinct=True))
        )
        for row in rows:
            result.setdefault(row["incident_id"], []).append(
                (int(row["moment"].timestamp()), row["n"])
            )
    return {pk: sorted(m) for pk, m in result.items()}


def _span(incident: Incident) -> timedelta:
    return incident.last_occurrence_at - incident.opened_at


def moments_as_times(moments) -> tuple[list[datetime], list[int]]:
    """Return the chart's (times, weights) from stored moments."""
    return (
        [datetime.fromtimestamp(second, tz=UTC) for second, _ in moments],
        [n for _, n in moments],
    )


def summaries_freeze(*, batch: int = 200, now=None) -> int:
    """Count and freeze every settled incident that has no summary yet; return how many.

    What the first reader of a never-viewed history would otherwise pay (a year's report:
    thousands of incidents at once), done ahead by hand or from a scheduler.
    """
    now = now or timezone.now()
    frozen, skipped = 0, set()
    while True:
        pending = list(
            Incident.objects.filter(
                status=Incident.Status.RESOLVED,
                resolved_at__lte=now - SETTLE,
                summary__isnull=True,
            )
            .exclude(pk__in=skipped)
            .order_by("opened_at")[:batch]
        )
        if not pending:
            return frozen
        incident_figures(pending, now=now)
        done = set(
            IncidentSummary.objects.filter(incident__in=pending).values_list(
                "incident_id", flat=True
            )
        )
        frozen += len(done)
        # Incidents whose pushes are unfinished stay unfrozen: do not ask for them again.
        skipped.update(i.pk for i in pending if i.pk not in done)
