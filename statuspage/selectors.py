"""Reads for what customers may see: impacted services, incidents, maintenance, endpoints.

Every read goes through `statuspage.visibility` (which incidents customers can
see, which services they know). Only services marked customer-facing appear, by
their customer-facing name; an action's code, name and teams never leave here.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min

from actions.models import TriggerRule
from incidents.models.recurrence import windows_overlapping
from statuspage.history import Span, uptime_days, uptime_overall
from statuspage.models import OpenFinanceEndpoint
from statuspage.visibility import (
    UNRESOLVED,
    customer_facing_services,
    customer_visible,
    visible_maintenance,
)


def _services_of_actions(action_ids, *, customer_facing: bool = True) -> dict:
    """Return {action_id: {service_id, ...}} for the actions' rules."""
    rules = TriggerRule.objects.filter(action_id__in=set(action_ids))
    if customer_facing:
        rules = rules.filter(service__status_visible=True)
    found = defaultdict(set)
    for action_id, service_id in rules.values_list("action_id", "service_id"):
        found[action_id].add(service_id)
    return found


def impacted_services() -> list[dict]:
    """Return the customer-facing services impacted now, with since when, by slug.

    Impacted: covered by an unresolved customer-visible incident. One query.
    """
    rows = (
        TriggerRule.objects.filter(
            service__status_visible=True,
            action__incidents__in=customer_visible().filter(status__in=UNRESOLVED),
        )
        .values("service__slug", "service__name")
        .annotate(since=Min("action__incidents__opened_at"))
        .order_by("service__slug")
    )
    return [
        {"service": row["service__slug"], "name": row["service__name"], "since": row["since"]}
        for row in rows
    ]


def page_services(*, now) -> list[dict]:
    """Return every customer-facing service with its state for the status page.

    A service is disrupted while a customer-visible incident covers it (the same
    list as the status API's), and in maintenance while a window shown on the
    page runs on it.
    """
    since = {row["service"]: row["since"] for row in impacted_services()}
    in_maintenance = {}
    for window in page_maintenance(start=now, end=now):
        for service_id in window.service_ids:
            in_maintenance.setdefault(service_id, window.ends_at)
    return [
        {
            "id": service.pk,
            "pk": service.pk,
            "slug": service.slug,
            "name": service.name,
            "disrupted": service.slug in since,
            "since": since.get(service.slug),
            "maintenance_until": in_maintenance.get(service.pk),
        }
        for service in customer_facing_services().order_by("name")
    ]


def page_incidents(*, now, days: int, limit: int = 20, before=None) -> list[dict]:
    """Return the customer-visible incidents opened in the last `days`, newest first.

    At most `limit`, opened before `before` when given (a page of the history,
    keyset on the opening time). Each is {services: [customer-facing names],
    start, end (None while open), duration (None while open)}; nothing else of
    the incident is read.
    """
    incidents = customer_visible().filter(opened_at__gte=now - timedelta(days=days))
    if before is not None:
        incidents = incidents.filter(opened_at__lt=before)
    incidents = list(
        incidents.order_by("-opened_at", "-id").values(
            "id", "action_id", "opened_at", "resolved_at"
        )[:limit]
    )
    names = defaultdict(set)
    for action_id, name in TriggerRule.objects.filter(
        action_id__in={i["action_id"] for i in incidents}, service__status_visible=True
    ).values_list("action_id", "service__name"):
        names[action_id].add(name)
    return [
        {
            "id": i["id"],
            "services": sorted(names[i["action_id"]]),
            "start": i["opened_at"],
            "end": i["resolved_at"],
            "duration": i["resolved_at"] - i["opened_at"] if i["resolved_at"] else None,
        }
        for i in incidents
    ]


def service_spans(*, start: datetime, end: datetime) -> dict[int, list[tuple]]:
    """Return {service id: [(start, end or None), ...]} of customer-visible incidents in range.

    For the uptime history: each customer-facing service with the incidents that
    made it unavailable between `start` and `end` (open ones have no end).
    """
    covering = TriggerRule.objects.filter(service__status_visible=True).values("action_id")
    incidents = list(
        customer_visible()
        .filter(opened_at__lt=end, action_id__in=covering)
        .exclude(resolved_at__lt=start)
        .order_by("opened_at")
        .values_list("action_id", "opened_at", "resolved_at")
    )
    services = _services_of_actions(action_id for action_id, _s, _e in incidents)
    spans = defaultdict(list)
    for action_id, opened_at, resolved_at in incidents:
        for service_id in services[action_id]:
            spans[service_id].append((opened_at, resolved_at))
    return spans


@dataclass(frozen=True)
class PageWindow:
    """A maintenance window as the page shows it: when, why, on which services."""

    starts_at: datetime
    ends_at: datetime
    reason: str
    service_ids: tuple[int, ...]
    services: tuple[str, ...]
    recurrence_id: int | None = None


def page_maintenance(*, start: datetime, end: datetime) -> list[PageWindow]:
    """Return the maintenance windows shown on the page overlapping [start, end], soonest first."""
    windows = list(
        visible_maintenance(windows_overlapping(start, end))
        .select_related("service")
        .order_by("starts_at", "pk")
    )
    by_action = _services_of_actions(w.action_id for w in windows if w.action_id)
    names = dict(customer_facing_services().values_list("pk", "name"))
    found = []
    for window in windows:
        ids = {window.service_id} if window.service_id else by_action[window.action_id]
        ids = tuple(sorted(i for i in ids if i in names))
        found.append(
            PageWindow(
                starts_at=window.starts_at,
                ends_at=window.ends_at,
                reason=window.reason,
                service_ids=ids,
                services=tuple(sorted(names[i] for i in ids)),
                recurrence_id=window.recurrence_id,
            )
        )
    return found


def open_finance_endpoints() -> dict[int, list[str]]:
    """Return {service id: [paths]} of every service that carries Open Finance endpoints."""
    found = defaultdict(list)
    for service_id, path in OpenFinanceEndpoint.objects.order_by("path").values_list(
        "service_id", "path"
    ):
        found[service_id].append(path)
    return found


def open_finance_incidents() -> list[dict]:
    """Return the unresolved customer-visible incidents with the services they make fail.

    Every service of the action counts here (not only customer-facing ones): the
    feed lists endpoints, and the endpoint mapping is CX's choice of what to show.
    """
    incidents = list(
        customer_visible()
        .filter(status__in=UNRESOLVED)
        .order_by("opened_at")
        .values("action_id", "opened_at")
    )
    services = _services_of_actions((i["action_id"] for i in incidents), customer_facing=False)
    return [
        {"opened_at": i["opened_at"], "service_ids": services[i["action_id"]]} for i in incidents
    ]


def open_finance_windows(*, start: datetime, end: datetime) -> list[dict]:
    """Return the windows shown to customers overlapping [start, end], with their services.

    Shown: marked for the status page. Each with every service it holds (a
    window on an action holds all the action's services).
    """
    windows = list(
        windows_overlapping(start, end).filter(status_visible=True).order_by("starts_at", "pk")
    )
    by_action = _services_of_actions(
        (w.action_id for w in windows if w.action_id), customer_facing=False
    )
    return [
        {
            "starts_at": w.starts_at,
            "ends_at": w.ends_at,
            "reason": w.reason,
            "service_ids": {w.service_id} if w.service_id else by_action[w.action_id],
        }
        for w in windows
    ]


def services_history(*, now: datetime, days: int) -> list[dict]:
    """Return each customer-facing service with its last `days` days of uptime (two queries).

    {id, slug, name, uptime (over the period), days: [history.Day, oldest first]}.
    """
    start = now - timedelta(days=days + 1)
    spans = service_spans(start=start, end=now)
    found = []
    for service in customer_facing_services().order_by("name"):
        bars = uptime_days(
            [Span(start, end) for start, end in spans.get(service.pk, [])],
            days=days,
            now=now,
            time_zone=settings.TIME_ZONE,
        )
        found.append(
            {
                "id": service.pk,
                "slug": service.slug,
                "name": service.name,
                "uptime": uptime_overall(bars),
                "days": bars,
            }
        )
    return found
