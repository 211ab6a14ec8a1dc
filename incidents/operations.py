"""What a person may do to an incident, in one registry for the support page and the API.

Each operation names the permission it needs, the statuses it applies to and
the service that does it; the support page shows a button per operation the
user may run now, and the API answers POST /api/v1/incidents/<id>/<name>.
The API's silence takes any number of minutes; the page offers one hour.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.utils.translation import gettext_lazy as _

from cxhub.rules import RULES
from incidents import services
from incidents.models import Incident

# Acknowledge, resolve and silence change the incident's state: responding is
# the incident's change permission (cxhub.rules, the same on every path).
RESPOND = RULES["acknowledge"]


@dataclass(frozen=True)
class Operation:
    name: str
    label: str
    done_message: str
    permission: str
    statuses: tuple[str, ...]
    run: Callable[..., bool]  # run(incident_id=..., by=...) -> whether it changed anything
    style: str = "primary"


OPERATIONS = {
    op.name: op
    for op in (
        Operation(
            name="acknowledge",
            label=_("Acknowledge"),
            done_message=_("Incident acknowledged: no further tier pages."),
            permission=RULES["acknowledge"],
            statuses=(Incident.Status.OPEN,),
            run=services.incident_acknowledge,
        ),
        Operation(
            name="resolve",
            label=_("Resolve"),
            done_message=_("Incident resolved: the all-clear goes to the customers pushed."),
            permission=RULES["resolve"],
            statuses=(Incident.Status.OPEN, Incident.Status.ACKNOWLEDGED),
            run=services.incident_resolve,
            style="danger",
        ),
        Operation(
            name="silence",
            label=_("Silence 1 h"),
            done_message=_("Incident silenced for an hour: no pages, occurrences still count."),
            permission=RULES["silence"],
            statuses=(Incident.Status.OPEN, Incident.Status.ACKNOWLEDGED),
            run=partial(services.incident_silence, minutes=60),
            style="secondary",
        ),
    )
}


def operations_for(user, incident: Incident) -> list[Operation]:
    """Return the operations `user` may run on `incident` in its current status."""
    return [
        op
        for op in OPERATIONS.values()
        if incident.status in op.statuses and user.has_perm(op.permission)
    ]
