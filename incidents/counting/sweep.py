"""The safety net: find due work in the database, whatever the broker lost."""

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from incidents.counting import doorbell
from incidents.counting.triage import triage_digest_send
from incidents.counting.waiting import reports_waiting, waiting_since, waiting_since_note
from incidents.lifecycle.approvals import approvals_expire
from incidents.lifecycle.evaluation import incident_check
from incidents.models import Incident
from notifications.deliveries import deliveries_requeue


def sweep(now=None) -> dict:
    """Ring for lost reports, check incidents whose time came, re-publish stuck deliveries."""
    now = now or timezone.now()
    stale = now - settings.CXHUB_STALE_AFTER
    # Every day is read only when there is no note of where the waiting reports start.
    since = waiting_since()
    waiting = reports_waiting(since).aggregate(
        lost=Count("id", filter=Q(received_at__lte=stale)), oldest=Min("received_at")
    )
    lost = waiting["lost"]
    if since is None:
        waiting_since_note(waiting["oldest"], now=now)  # where the drains' claims start
    if lost:
        doorbell.ring_now()  # one drain counts them all, in batches
    due_incidents = list(
        Incident.objects.exclude(status=Incident.Status.RESOLVED)
        .filter(next_check_at__lte=now)
        .values_list("id", flat=True)[:1000]
    )
    for incident_id in due_incidents:
        incident_check(incident_id, now=now)
    approvals = approvals_expire(now=now)  # held mass pushes nobody decided in time
    triage = triage_digest_send(now=now)  # pairs that waited for the digest interval
    deliveries = deliveries_requeue(now=now)
    return {
        "reports": lost,
        "incidents": len(due_incidents),
        "approvals": approvals,
        "triage": triage,
        "deliveries": deliveries,
    }
