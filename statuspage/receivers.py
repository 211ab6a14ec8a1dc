"""Hooks that ring the notices' doorbell, connected in StatuspageConfig.ready().

incidents never imports the status page: its timeline events and maintenance
windows are saved rows, and Django's post_save says so. The receivers only
enqueue (after commit) a look at that incident or window; the beat sweep finds
whatever a lost message leaves behind.
"""

from django.db.models.signals import post_save

from cxhub.enqueue import enqueue_on_commit
from incidents.models import MaintenanceWindow, TimelineEvent
from notifications import signals
from notifications.models import Delivery
from statuspage.sending import records_fail

Kind = TimelineEvent.Kind
# Moments an incident may become visible or stop being so.
WATCHED = {
    Kind.OPENED,
    Kind.OCCURRENCE,
    Kind.PUSH_QUEUED,
    Kind.PUSH_HELD,
    Kind.MAINTENANCE_ENDED,
    Kind.RESOLVED,
    Kind.REOPENED,
}


def on_timeline_event(sender, *, instance, created, **kwargs):
    if created and instance.kind in WATCHED:
        enqueue_on_commit("statuspage.tasks.incident_notices", str(instance.incident_id))


def on_maintenance_saved(sender, *, instance, **kwargs):
    enqueue_on_commit("statuspage.tasks.maintenance_notices", instance.pk)


def on_delivery_recorded(sender, *, delivery, outcome, error="", **kwargs):
    if outcome == "failed" and delivery.purpose == Delivery.Purpose.STATUS_NOTICE:
        records_fail(delivery, error)


def connect() -> None:
    post_save.connect(on_timeline_event, sender=TimelineEvent, dispatch_uid="statuspage.notices")
    post_save.connect(
        on_maintenance_saved, sender=MaintenanceWindow, dispatch_uid="statuspage.maintenance"
    )
    signals.delivery_recorded.connect(on_delivery_recorded, dispatch_uid="statuspage.ledger")
