"""seed_history writes a consistent history with PostgreSQL's bulk paths, and says so on SQLite."""

import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from incidents.models import ChangeEvent, Incident, Report, Trigger
from notifications.models import Delivery, PushRecord

pytestmark = pytest.mark.django_db

SMALL = {
    "days": 3,
    "triggers_per_day": 40,
    "customers": 20,
    "ledger_rows": 10,
    "ledger_incidents": 2,
    "storm_occurrences": 30,
    "no_analyze": True,
}


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite answer")
def test_seed_history_needs_postgresql():
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("seed_history", **SMALL)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL bulk paths")
def test_seeded_history_holds_together():
    call_command("seed_history", **SMALL)
    seeded = Incident.objects.filter(action__code__startswith="S")
    assert seeded.count() == 3 * 8 + 1
    # Every occurrence is one report of one trigger of its incident, within its bounds.
    for incident in seeded:
        times = sorted(
            Trigger.objects.filter(incident=incident).values_list("received_at", flat=True)
        )
        assert len(times) == incident.occurrences == incident.report_count
        assert (times[0], times[-1]) == (incident.first_received_at, incident.last_received_at)
    assert Report.objects.count() == Trigger.objects.count()
    storm = seeded.order_by("-occurrences").first()
    assert storm.occurrences == 30
    assert PushRecord.objects.count() == 10
    assert ChangeEvent.objects.count() == 3 * 3
    assert not Delivery.objects.exclude(status=Delivery.Status.SENT).exists()
    with pytest.raises(CommandError, match="already"):
        call_command("seed_history", **SMALL)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL bulk paths")
def test_a_short_history_can_hold_as_many_change_events_and_approvals_as_a_page_shows():
    """The benchmark's two-day database lists as many rows per admin page as the year."""
    from incidents.models import PushApproval

    call_command("seed_history", **SMALL, change_events_per_day=40, approval_every=1)
    assert ChangeEvent.objects.count() == 3 * 40
    # 40 a day, spread over the day: the first and last of a day 36 minutes apart.
    day = sorted(ChangeEvent.objects.values_list("at", flat=True))[:40]
    assert day[-1] - day[0] == timedelta(days=1) * 39 / 40
    pushed = Incident.objects.filter(action__code__startswith="S", push_queued_at__isnull=False)
    assert PushApproval.objects.count() == pushed.count() > 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL catalog")
def test_foreign_keys_checked_once_finds_an_orphan_and_passes_a_clean_schema():
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from incidents.models import TimelineEvent
    from support.foreign_keys import foreign_keys_check, foreign_keys_checked_once

    with connection.cursor() as cursor:
        assert foreign_keys_check(cursor) > 20  # every key of the schema, none broken
    with pytest.raises(IntegrityError, match="incidents_incident"):
        with transaction.atomic(), connection.cursor() as cursor:
            with foreign_keys_checked_once(cursor) as once:
                assert once  # the tests connect as a superuser
                TimelineEvent.objects.create(incident_id=uuid.uuid4(), at=timezone.now())
    assert not TimelineEvent.objects.exists()
