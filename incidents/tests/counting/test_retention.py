from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from conftest import ORIGINAL_PAYLOAD
from incidents.counting import retention
from incidents.counting.retention import retention_prune
from incidents.models import Incident, Report, TimelineEvent, Trigger
from notifications.models import Delivery

pytestmark = pytest.mark.django_db


def ingest(client, capture, n):
    for _ in range(n):
        with capture(execute=True):
            assert (
                client.post("/api/v1/triggers", ORIGINAL_PAYLOAD, format="json").status_code == 202
            )


def test_prune_drops_old_triggers_and_delivery_details_but_keeps_incidents(
    ingest_client, scenario, eager_celery, django_capture_on_commit_callbacks
):
    ingest(ingest_client, django_capture_on_commit_callbacks, 12)
    incident = Incident.objects.get()
    events = incident.events.count()
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 2
    # Age everything past the retention period, then add one fresh report.
    long_ago = timezone.now() - timedelta(days=31)
    Report.objects.update(received_at=long_ago)
    # A trigger's received_at is always its report's (on PostgreSQL it lies in its day).
    Trigger.objects.update(received_at=long_ago)
    Delivery.objects.update(created_at=long_ago)
    ingest(ingest_client, django_capture_on_commit_callbacks, 1)
    # Created after the last processing batch, so it is still waiting.
    unprocessed = Report.objects.create(received_at=long_ago, payload={})

    result = retention_prune()

    assert result == {"reports": 12, "deliveries": 2}
    assert set(Report.objects.values_list("id", flat=True)) == {
        unprocessed.id,
        Report.objects.exclude(id=unprocessed.id).get().id,
    }
    assert Trigger.objects.count() == 2
    incident.refresh_from_db()
    assert incident.occurrences == 13
    assert incident.events.count() >= events
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.OPENED).exists()
    for delivery in Delivery.objects.all():
        assert (delivery.message, delivery.recipients) == ("", [])
        assert delivery.status == Delivery.Status.SENT
    # A second run finds nothing left to do.
    assert retention_prune() == {"reports": 0, "deliveries": 0}


def test_prune_command_takes_a_days_override(capsys, db):
    Report.objects.create(
        received_at=timezone.now() - timedelta(days=3), processed_at=timezone.now(), payload={}
    )
    call_command("prune", days=5)
    assert Report.objects.count() == 1
    call_command("prune", days=2)
    assert Report.objects.count() == 0
    assert "Pruned 1 report(s)" in capsys.readouterr().out


def test_prune_retires_every_slice_and_keeps_what_is_newer_or_uncounted(db, monkeypatch):
    monkeypatch.setattr(retention, "SLICE_ROWS", 3)
    # One hour past midnight UTC: on PostgreSQL retention retires whole days, and every
    # row below lies on a day that ends before the cutoff.
    now = timezone.now().replace(hour=1, minute=0, second=0, microsecond=0)
    cutoff = now - timedelta(days=30)

    def report(at, processed=True):
        r = Report.objects.create(
            received_at=at, payload={}, processed_at=at if processed else None
        )
        Trigger.objects.create(report=r, service="login", code="503", received_at=at, matched=True)
        return r

    for hours in (2, 3, 7, 30):
        report(cutoff - timedelta(hours=hours, minutes=5))
    kept = {report(cutoff + timedelta(minutes=1)).id, report(cutoff - timedelta(hours=3), False).id}

    assert retention_prune(now=now, delivery_days=3650)["reports"] == 4
    assert set(Report.objects.values_list("id", flat=True)) == kept
    assert set(Trigger.objects.values_list("report_id", flat=True)) == kept
