"""The drains' claims start at the oldest waiting report the sweep noted; nothing is skipped."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import make_scenario
from incidents import services
from incidents.counting import drain, waiting
from incidents.counting.sweep import sweep
from incidents.models import Integration, Report

pytestmark = pytest.mark.django_db


def ingest(integration, at=None):
    report, _ = services.report_ingest(
        integration=integration, triggers=[{"service": "login", "code": "503"}], payload={}
    )
    if at is not None:  # a request that recorded its time long before its commit
        Report.objects.filter(pk=report.pk).update(received_at=at)
        report.triggers.update(received_at=at)
    return report


def claim_sql(now) -> str:
    with CaptureQueriesContext(connection) as queries:
        drain._plain_batch_count(now=now)
    # The claim: the first read of waiting reports (FOR UPDATE SKIP LOCKED on PostgreSQL).
    return next(
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and '"processed_at" IS NULL' in q["sql"]
    )


def test_without_a_note_a_claim_reads_every_day():
    make_scenario()
    integration = Integration.objects.create(name="monitoring")
    ingest(integration)
    assert '"received_at" >=' not in claim_sql(timezone.now())
    assert Report.objects.filter(processed_at=None).count() == 0


def test_the_sweep_notes_the_oldest_waiting_report_and_claims_start_there():
    make_scenario()
    integration = Integration.objects.create(name="monitoring")
    now = timezone.now()
    sweep(now=now)  # nothing waits: claims start a margin before now
    assert '"received_at" >=' in claim_sql(now)

    # A report whose time is older than the note waits until the note expires, no longer.
    late = ingest(integration, at=now - waiting.MARGIN - timedelta(minutes=1))
    drain._plain_batch_count(now=now)
    late.refresh_from_db()
    assert late.processed_at is None
    with CaptureQueriesContext(connection) as queries:
        assert sweep(now=now)["reports"] == 0  # the sweep reads from the note too
    assert any('"received_at" >=' in q["sql"] for q in queries.captured_queries)
    cache.delete(waiting.NOTE_KEY)  # NOTE_SECONDS later
    assert sweep(now=now)["reports"] == 1  # every day: stale, it rings and notes its time
    assert drain._plain_batch_count(now=now) == 1
    late.refresh_from_db()
    assert late.processed_at == now


def test_a_stale_or_unreadable_note_falls_back_to_every_day(monkeypatch):
    make_scenario()
    integration = Integration.objects.create(name="monitoring")
    now = timezone.now()
    sweep(now=now)
    cache.delete(waiting.NOTE_KEY)  # the note expired: the sweep stopped
    old = ingest(integration, at=now - timedelta(days=3))
    assert drain._plain_batch_count(now=now) == 1
    old.refresh_from_db()
    assert old.processed_at == now

    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)
    sweep(now=now)  # noting fails quietly
    older = ingest(integration, at=now - timedelta(days=4))
    assert drain._plain_batch_count(now=now) == 1
    older.refresh_from_db()
    assert older.processed_at == now
