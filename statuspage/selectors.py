"""Reads for what customers may see: impacted services now, the recent incident history.

Only services marked customer-facing (Service.status_visible) appear, by their
customer-facing name; an action's code, name and teams never leave this module.
"""

from collections import defaultdict
from datetime import timedelta

from django.db.models import F, Min

from actions.models import Service, TriggerRule
from incidents.models import Incident


def impacted_services() -> list[dict]:
    """Return the customer-facing services impacted now, with since when, by slug.

    Impacted: covered by an unresolved incident of an action with a push policy
    that reached its push threshold (the point at which customers are told).
    One query: rules joined to their actions' unresolved incidents.
    """
    rows = (
        TriggerRule.objects.filter(
            service__status_visible=True,
            action__push_threshold__isnull=False,
            action__incidents__status__in=[Incident.Status.OPEN, Incident.Status.ACKNOWLEDGED],
            action__incidents__occurrences__gte=F("action__push_threshold"),
        )
        .values("service__slug", "service__name")
        .annotate(since=Min("action__incidents__opened_at"))
        .order_by("service__slug")
    )
    return [
        {"service": row["service__slug"], "name": row["service__name"], "since": row["since"]}
        for row in rows
    ]


def page_services() -> list[dict]:
    """Return every customer-facing service with its state for the status page.

    A service is disrupted while an unresolved incident of an action shown on the
    page covers it.
    """
    since = dict(
        TriggerRule.objects.filter(
            service__status_visible=True,
            action__status_visible=True,
            action__incidents__status__in=[Incident.Status.OPEN, Incident.Status.ACKNOWLEDGED],
        )
        .values("service_id")
        .annotate(since=Min("action__incidents__opened_at"))
        .values_list("service_id", "since")
    )
    return [
        {
            "pk": service.pk,
            "name": service.name,
            "disrupted": service.pk in since,
            "since": since.get(service.pk),
        }
        for service in Service.objects.filter(status_visible=True).order_by("name")
    ]


def page_incidents(*, now, days: int, limit: int = 500) -> list[dict]:
    """Return the incidents of actions shown on the page opened in the last `days`, newest first.

    Each is {services: [customer-facing names], start, end (None while open),
    duration (None while open)}; nothing else of the incident is read.
    """
    incidents = list(
        Incident.objects.filter(
            action__status_visible=True, opened_at__gte=now - timedelta(days=days)
        )
        .order_by("-opened_at")
        .values("id", "action_id", "opened_at", "resolved_at")[:limit]
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
