"""The one rule for "customers can see it", used by the page, the status API and the feeds.

An incident is customer-visible when its action is shown on the status page
(Action.status_visible) and it has reached the moment customers are told: the
push threshold frozen in its policy, or at once for an action that never pushes
(CX put it on the page knowing it has no threshold). Occurrences only grow, so a
resolved incident that once was visible stays so in the history.

It then makes unavailable its action's customer-facing services
(Service.status_visible), and only those.
"""

from django.db.models import F, IntegerField, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from actions.models import Service
from incidents.models import Incident, MaintenanceWindow

UNRESOLVED = [Incident.Status.OPEN, Incident.Status.ACKNOWLEDGED]


def _threshold():
    return Cast(KeyTextTransform("push_threshold", "policy"), IntegerField())


def customer_visible(incidents: QuerySet | None = None) -> QuerySet:
    """Return the incidents customers can see (resolved ones included), as one filter."""
    incidents = Incident.objects.all() if incidents is None else incidents
    return incidents.alias(visible_from=_threshold()).filter(
        Q(visible_from__isnull=True) | Q(occurrences__gte=F("visible_from")),
        action__status_visible=True,
    )


def incident_customer_visible(incident: Incident) -> bool:
    """Return whether customers can see `incident`: the rule of `customer_visible`, in Python."""
    if not incident.action.status_visible:
        return False
    threshold = (incident.policy or {}).get("push_threshold")
    return threshold is None or incident.occurrences >= threshold


def customer_facing_services() -> QuerySet:
    """Return the services customers know, by name: the only ones ever shown."""
    return Service.objects.filter(status_visible=True)


def visible_maintenance(windows: QuerySet | None = None) -> QuerySet:
    """Return the maintenance windows customers are told about.

    Marked for the status page, and on a customer-facing service or on an action
    shown on the page that covers one.
    """
    windows = MaintenanceWindow.objects.all() if windows is None else windows
    return (
        windows.filter(status_visible=True)
        .filter(
            Q(service__status_visible=True)
            | Q(action__status_visible=True, action__rules__service__status_visible=True)
        )
        .distinct()
    )
