"""Helpers for push tests: post reports, send what is queued, read the ledger."""

from incidents import services as incidents
from incidents.counting.drain import report_process
from incidents.models import Incident
from notifications import providers
from notifications.models import Delivery, PushRecord
from notifications.services import delivery_send


def post(integration, times=5):
    for _ in range(times):
        report, _ = incidents.report_ingest(
            integration=integration, triggers=[{"service": "login", "code": "503"}], payload={}
        )
        report_process(report.id)
    return Incident.objects.exclude(status="resolved").get()


def send_pending(purpose):
    sent = []
    for delivery in Delivery.objects.filter(purpose=purpose, status="pending").order_by("key"):
        sent.append(delivery_send(delivery.pk))
    return sent


def ledger(purpose, **filters):
    return sorted(
        PushRecord.objects.filter(purpose=purpose, **filters).values_list("device__token", "status")
    )


def outbox_tokens():
    return sorted(token for push in providers.outbox for token in push["tokens"])
