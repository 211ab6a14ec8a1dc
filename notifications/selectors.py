"""Reads of the customer side: audiences, their size, push progress."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Sum

from notifications.models import Customer, Delivery, Device, PushRecord, Tag
from notifications.quiet_hours import morning_of


def audience_devices(audience: dict, *, opted_out: bool = False):
    """Return the enabled devices an audience (see audiences.audience_of) reaches.

    Customers who opted out of outage pushes are left out; `opted_out=True` returns
    only theirs instead (what the admin's preview counts as left out). Each
    narrowing is a semi-join (`customer_id IN (subquery)`) rather than a join, so
    a customer with several services or tags does not repeat its devices and no
    DISTINCT over a million rows is needed.
    """
    devices = Device.objects.filter(enabled=True, customer__opt_out_outage=opted_out)
    if audience.get("scope", "service") == "service":
        devices = devices.filter(
            customer_id__in=Customer.services.through.objects.filter(
                service_id__in=audience.get("service_ids", [])
            ).values("customer_id")
        )
    if audience.get("tags"):
        devices = devices.filter(
            customer_id__in=Customer.tags.through.objects.filter(
                tag_id__in=Tag.objects.filter(slug__in=audience["tags"]).values("id")
            ).values("customer_id")
        )
    if audience.get("platforms"):
        devices = devices.filter(platform__in=audience["platforms"])
    if audience.get("locales"):
        devices = devices.filter(customer__locale__in=audience["locales"])
    return devices


@dataclass(frozen=True)
class AudiencePart:
    """The devices (or customers) of an audience whose message goes out at one time."""

    rows: object  # a Device or Customer queryset
    due_at: datetime
    key: str  # "" for the part sent now, "n" for a critical night, else "m<epoch>"
    quiet_hours: str  # "", "held" or "critical" (see Delivery.quiet_hours)


def audience_parts(audience: dict, *, now, critical: bool, window) -> list[AudiencePart]:
    """Split an audience's devices by when each customer's outage push may go."""
    return parts_by_morning(
        audience_devices(audience),
        "customer__time_zone",
        now=now,
        critical=critical,
        window=window,
    )


def parts_by_morning(rows, zone_field: str, *, now, critical: bool, window) -> list[AudiencePart]:
    """Split rows by when their customer may be told: now, or at the end of their night.

    Customers whose own time zone is in its quiet hours (`window`, see
    cxhub.daily_window.parse_window) wait until the end of them, one part per morning;
    a critical action sends to them now, marked so in the ledger. One query
    finds the rows' time zones; each part is then a filter on them.
    """
    if window is None:
        return [AudiencePart(rows, now, "", "")]
    # order_by(): the model's default ordering would join the DISTINCT (one row per device).
    zones = set(rows.order_by().values_list(zone_field, flat=True).distinct())
    day, nights = set(), defaultdict(set)
    for zone in zones:
        morning = morning_of(now, zone or settings.TIME_ZONE, window)
        if morning is None:
            day.add(zone)
        else:
            nights[morning].add(zone)
    parts = [AudiencePart(rows.filter(**{f"{zone_field}__in": day}), now, "", "")] if day else []
    if critical and nights:
        in_night = rows.filter(**{f"{zone_field}__in": set().union(*nights.values())})
        return [*parts, AudiencePart(in_night, now, "n", "critical")]
    for morning, night_zones in sorted(nights.items()):
        in_night = rows.filter(**{f"{zone_field}__in": night_zones})
        parts.append(AudiencePart(in_night, morning, f"m{int(morning.timestamp())}", "held"))
    return parts


def fallback_customers(audience: dict, channel: str):
    """Return the audience's customers with no enabled device who consented to `channel`.

    The audience's service, tag and locale narrowing applies (platforms do not:
    these customers have no device); opted-out customers are left out.
    """
    contact = {"sms": "phone", "email": "email"}[channel]
    customers = Customer.objects.filter(
        opt_out_outage=False, **{f"{contact}_consent": True}
    ).exclude(**{contact: ""})
    if audience.get("scope", "service") == "service":
        customers = customers.filter(
            pk__in=Customer.services.through.objects.filter(
                service_id__in=audience.get("service_ids", [])
            ).values("customer_id")
        )
    if audience.get("tags"):
        customers = customers.filter(
            pk__in=Customer.tags.through.objects.filter(
                tag_id__in=Tag.objects.filter(slug__in=audience["tags"]).values("id")
            ).values("customer_id")
        )
    if audience.get("locales"):
        customers = customers.filter(locale__in=audience["locales"])
    return customers.exclude(pk__in=Device.objects.filter(enabled=True).values("customer_id"))


def audience_estimate(audience: dict) -> dict:
    """Return how many customers and devices an audience reaches now, and who opted out."""
    devices = audience_devices(audience)
    return {
        "devices": devices.count(),
        "customers": devices.values("customer_id").distinct().count(),
        "opted_out": audience_devices(audience, opted_out=True)
        .values("customer_id")
        .distinct()
        .count(),
    }


def push_progress(incident) -> dict:
    """Return the outage push's progress: devices queued, sent, failed, capped, cancelled."""
    batches = {
        row["status"]: row["devices"] or 0
        for row in Delivery.objects.filter(incident=incident, purpose=Delivery.Purpose.PUSH)
        .values("status")
        .annotate(devices=Sum("size"))
    }
    records = {
        (row["purpose"], row["status"]): row["n"]
        for row in PushRecord.objects.filter(incident=incident)
        .values("purpose", "status")
        .annotate(n=Count("id"))
    }
    outage, all_clear = PushRecord.Purpose.OUTAGE, PushRecord.Purpose.ALL_CLEAR
    return {
        "queued": sum(batches.values()),
        "batches_pending": Delivery.objects.filter(
            incident=incident,
            purpose=Delivery.Purpose.PUSH,
            status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING],
        ).count(),
        "sent": records.get((outage, PushRecord.Status.SENT), 0),
        "failed": records.get((outage, PushRecord.Status.FAILED), 0),
        "capped": records.get((outage, PushRecord.Status.CAPPED), 0),
        "cancelled": batches.get(Delivery.Status.CANCELLED, 0),
        "all_clear_sent": records.get((all_clear, PushRecord.Status.SENT), 0),
    }
