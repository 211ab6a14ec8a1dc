"""Retention: prune old triggers and delivery details; incidents and timelines stay."""

import logging

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from incidents.models import Report
from notifications.models import Delivery

logger = logging.getLogger("cxhub.retention")

# Deleting in slices keeps each statement's locks short on a busy table.
BATCH = 5000


def retention_prune(*, now=None, trigger_days=None, delivery_days=None) -> dict:
    """Delete processed reports (and their triggers) and blank old delivery payloads.

    Incidents keep their occurrence counts and timeline events, so the history that
    support browses survives; what goes is the raw material behind it: request
    payloads, individual trigger rows, message bodies and push recipient lists.
    """
    now = now or timezone.now()
    trigger_days = settings.CXHUB_RETENTION_DAYS if trigger_days is None else trigger_days
    delivery_days = settings.CXHUB_RETENTION_DAYS if delivery_days is None else delivery_days
    reports = 0
    old = Report.objects.filter(
        processed_at__isnull=False, received_at__lt=now - timezone.timedelta(days=trigger_days)
    )
    while ids := list(old.values_list("id", flat=True)[:BATCH]):
        Report.objects.filter(id__in=ids).delete()
        reports += len(ids)
    finished = [Delivery.Status.SENT, Delivery.Status.FAILED, Delivery.Status.CANCELLED]
    deliveries = (
        Delivery.objects.filter(
            status__in=finished, created_at__lt=now - timezone.timedelta(days=delivery_days)
        )
        .filter(~Q(message="") | ~Q(recipients=[]))
        .update(message="", recipients=[])
    )
    if reports or deliveries:
        logger.info("Retention pruned %d report(s) and %d delivery detail(s)", reports, deliveries)
    return {"reports": reports, "deliveries": deliveries}
