"""Prometheus metrics read from the database at scrape time.

Counts live in rows (Integration.trigger_count, deliveries, reports), so every web
process reports the same cluster-wide figures, whichever one is scraped.
"""

import base64
import binascii
import hmac
from collections import Counter

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpResponse
from django.utils import timezone
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from cxhub.ratelimit import FailedAuthLimit


class CxhubCollector:
    """Triggers by integration, open incidents, deliveries by channel/status, queue lag."""

    def collect(self):
        from incidents.models import Incident, Integration, Report
        from notifications.models import Delivery

        now = timezone.now()
        triggers = CounterMetricFamily(
            "cxhub_triggers", "Triggers accepted, by integration.", labels=["integration"]
        )
        for name, count in Integration.objects.values_list("name", "trigger_count"):
            triggers.add_metric([name], count)
        yield triggers

        incidents = GaugeMetricFamily(
            "cxhub_incidents", "Unresolved incidents, by status.", labels=["status"]
        )
        unresolved = dict(
            Incident.objects.exclude(status=Incident.Status.RESOLVED)
            .values_list("status")
            .annotate(n=Count("id"))
        )
        for status in (Incident.Status.OPEN, Incident.Status.ACKNOWLEDGED):
            incidents.add_metric([status], unresolved.get(status, 0))
        yield incidents

        deliveries = GaugeMetricFamily(
            "cxhub_deliveries",
            "Deliveries by channel kind (or push provider) and status.",
            labels=["channel", "status"],
        )
        rows = Delivery.objects.values("channel__kind", "provider", "status").annotate(
            n=Count("id")
        )
        totals = Counter()
        for row in rows:
            totals[row["channel__kind"] or row["provider"] or "none", row["status"]] += row["n"]
        for labels, n in sorted(totals.items()):
            deliveries.add_metric(list(labels), n)
        yield deliveries

        lag = GaugeMetricFamily(
            "cxhub_queue_lag_seconds",
            "Age of the oldest unprocessed report / unsent due delivery (0 when none).",
            labels=["queue"],
        )
        oldest_report = Report.objects.filter(processed_at__isnull=True).aggregate(
            at=Min("received_at")
        )["at"]
        oldest_delivery = Delivery.objects.filter(
            status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING], due_at__lte=now
        ).aggregate(at=Min("due_at"))["at"]
        for queue, at in (("reports", oldest_report), ("deliveries", oldest_delivery)):
            lag.add_metric([queue], max(0.0, (now - at).total_seconds()) if at else 0.0)
        yield lag


_registered = False


def scrape_allowed(request) -> bool:
    """Return whether the request carries the configured metrics credential.

    A bearer token (CXHUB_METRICS_TOKEN) or basic auth (CXHUB_METRICS_BASIC_AUTH)
    when either is set; otherwise whether metrics are open (CXHUB_METRICS_OPEN).
    """
    token, basic = settings.CXHUB_METRICS_TOKEN, settings.CXHUB_METRICS_BASIC_AUTH
    if not (token or basic):
        return settings.CXHUB_METRICS_OPEN
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if token and scheme.lower() == "bearer":
        return hmac.compare_digest(value.strip().encode(), token.encode())
    if basic and scheme.lower() == "basic":
        try:
            given = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, basic.encode())
    return False


def metrics(request):
    """Serve django-prometheus's metrics plus cxhub's (registered on the first scrape)."""
    guard = FailedAuthLimit(request)
    # An address over the limit gets 429 before its credential is looked at.
    refused = guard.response()
    if refused is not None:
        return refused
    if not scrape_allowed(request):
        guard.failed()
        response = HttpResponse("Metrics need the scrape credential.\n", status=401)
        response["WWW-Authenticate"] = (
            'Bearer realm="metrics"' if settings.CXHUB_METRICS_TOKEN else 'Basic realm="metrics"'
        )
        return response
    global _registered
    if not _registered:
        REGISTRY.register(CxhubCollector())
        _registered = True
    return ExportToDjangoView(request)
