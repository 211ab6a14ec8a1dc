"""Figures of resolved incidents are counted once; pages read them without scanning history."""

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident, Trigger
from notifications.models import Delivery, PushRecord
from support import reports
from support.chart import occurrence_chart
from support.models import DailySends, IncidentSummary
from support.summaries import incident_figures, summaries_freeze
from support.tests.test_views import post_triggers

pytestmark = pytest.mark.usefixtures("eager_celery")


def _post(ingest_client, captured, n):
    with captured(execute=True):
        post_triggers(ingest_client, n)


def _resolve(incident, *, minutes_ago=10):
    resolved_at = timezone.now() - timedelta(minutes=minutes_ago)
    Incident.objects.filter(pk=incident.pk).update(
        status=Incident.Status.RESOLVED, resolved_at=resolved_at
    )
    Delivery.objects.filter(incident=incident).update(status=Delivery.Status.SENT)
    return Incident.objects.get(pk=incident.pk)


@pytest.fixture
def resolved(scenario, ingest_client, django_capture_on_commit_callbacks):
    """An incident of 11 posts of 2 triggers, its push sent to 3 devices of 2 customers."""
    _post(ingest_client, django_capture_on_commit_callbacks, 11)
    return _resolve(Incident.objects.get())


def test_a_resolved_incident_is_counted_once_then_read_in_one_query(
    resolved, django_assert_num_queries
):
    first = incident_figures([resolved])[resolved.pk]
    assert (first.triggers, first.outage_devices, first.outage_customers) == (22, 3, 2)
    assert sum(n for _second, n in first.moments) == 11
    assert IncidentSummary.objects.filter(incident=resolved).exists()
    # Rows added behind its back do not change it: the summary is the answer.
    Trigger.objects.filter(incident=resolved).delete()
    with django_assert_num_queries(1):
        again = incident_figures([resolved])[resolved.pk]
    assert again == first


def test_an_incident_resolved_again_is_counted_afresh(resolved):
    incident_figures([resolved])
    Trigger.objects.filter(incident=resolved)[:1].get().delete()
    later = _resolve(resolved, minutes_ago=6)
    assert incident_figures([later])[later.pk].triggers == 21


def test_open_incidents_and_unfinished_pushes_are_not_frozen(
    scenario, ingest_client, django_capture_on_commit_callbacks
):
    _post(ingest_client, django_capture_on_commit_callbacks, 6)
    incident = Incident.objects.get()
    incident_figures([incident])
    assert not IncidentSummary.objects.exists()
    resolved = _resolve(incident)
    Delivery.objects.filter(incident=incident, purpose=Delivery.Purpose.PUSH).update(
        status=Delivery.Status.PENDING
    )
    incident_figures([resolved])
    assert not IncidentSummary.objects.exists()
    just_resolved = _resolve(incident, minutes_ago=1)
    incident_figures([just_resolved])
    assert not IncidentSummary.objects.exists()


def test_support_pages_cost_the_same_queries_however_long_the_history(
    client, support_user, scenario, ingest_client, django_capture_on_commit_callbacks
):
    client.force_login(support_user)

    def queries(url):
        client.get(url)  # the first view freezes what it counts
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    _post(ingest_client, django_capture_on_commit_callbacks, 6)
    first = _resolve(Incident.objects.get())
    small = (queries(reverse("support:incidents")), queries(f"/support/incidents/{first.pk}/"))
    for _ in range(3):
        _post(ingest_client, django_capture_on_commit_callbacks, 12)
        _resolve(Incident.objects.exclude(status=Incident.Status.RESOLVED).get())
    assert Incident.objects.count() == 4
    assert (
        queries(reverse("support:incidents")),
        queries(f"/support/incidents/{first.pk}/"),
    ) == small


def test_the_list_reads_its_incidents_reach_without_their_chart(client, support_user, resolved):
    """A long incident's moments are thousands of pairs: the list, which draws no chart,
    leaves them in the database (decoding them for 25 rows was most of the page's time)."""
    incident_figures([resolved])  # frozen
    client.force_login(support_user)
    with CaptureQueriesContext(connection) as captured:
        listing = client.get(reverse("support:incidents")).content.decode()
    assert "pushed to 3 devices of 2 customers" in listing
    [summaries] = [
        q["sql"] for q in captured.captured_queries if "support_incidentsummary" in q["sql"]
    ]
    assert "outage_devices" in summaries
    assert "moments" not in summaries


def test_the_chart_of_counted_moments_is_the_chart_of_the_times():
    t0 = timezone.now().replace(microsecond=0)
    times = [t0 + timedelta(seconds=s) for s in (0, 0, 1, 5, 5, 5, 40)]
    plain = occurrence_chart(times, start=t0, end=t0 + timedelta(minutes=1))
    moments = sorted({t: times.count(t) for t in times}.items())
    weighted = occurrence_chart(
        [t for t, _ in moments],
        weights=[n for _, n in moments],
        start=t0,
        end=t0 + timedelta(minutes=1),
    )
    assert (weighted.total, weighted.peak, weighted.bars) == (plain.total, plain.peak, plain.bars)


def test_closed_days_of_sends_are_stored_and_recent_ones_counted_live(resolved):
    today = timezone.localdate()
    sent_at = timezone.now() - timedelta(days=5)
    PushRecord.objects.filter(incident=resolved).update(sent_at=sent_at)
    period = reports.Period(today - timedelta(days=9), today)
    first = reports.sends_per_day(period)
    day = timezone.localtime(sent_at).date()
    assert first[day]["pushes"] == 3
    stored = set(DailySends.objects.values_list("day", flat=True))
    assert day in stored
    assert today - timedelta(days=1) in stored
    assert today not in stored
    # A stored day is read back, not counted again.
    PushRecord.objects.filter(incident=resolved).delete()
    assert reports.sends_per_day(period)[day]["pushes"] == 3


def test_yesterdays_sends_are_stored_once_the_day_has_settled(resolved):
    """A send is stamped when it went and committed at once: the day is final once over."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    midnight = timezone.make_aware(datetime.combine(today, time.min), tz)
    yesterday = today - timedelta(days=1)
    PushRecord.objects.filter(incident=resolved).update(sent_at=midnight - timedelta(seconds=1))
    period = reports.Period(yesterday, today)
    # Just past midnight a send of 23:59:59 may still be committing: counted, not stored.
    assert (
        reports.sends_per_day(period, now=midnight + timedelta(minutes=1))[yesterday]["pushes"] == 3
    )
    assert not DailySends.objects.exists()
    # Settled: stored, and read back without the ledger.
    reports.sends_per_day(period, now=midnight + timedelta(minutes=6))
    assert set(DailySends.objects.values_list("day", flat=True)) == {yesterday}
    PushRecord.objects.filter(incident=resolved).delete()
    assert reports.sends_per_day(period)[yesterday]["pushes"] == 3


def test_a_years_report_counts_only_todays_sends_from_the_ledger(client, support_user, resolved):
    client.force_login(support_user)
    today = timezone.localdate()
    year = {"since": today - timedelta(days=365), "until": today}
    client.get(reverse("support:reports"), year)  # the first view stores the final days
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("support:reports"), year).status_code == 200
    ledger = [q for q in captured.captured_queries if "notifications_pushrecord" in q["sql"]]
    assert len(ledger) == 2  # pushes, all-clears
    # Every day but today is read from its stored counts (yesterday too, unless the
    # test runs in the minutes after midnight while yesterday's last sends settle).
    days = {today - timedelta(days=n) for n in range(366)}
    live = days - set(DailySends.objects.values_list("day", flat=True))
    assert today in live
    assert live <= {today, today - timedelta(days=1)}


def test_a_period_in_the_future_stores_nothing(db):
    today = timezone.localdate()
    reports.sends_per_day(reports.Period(today, today + timedelta(days=3)))
    assert not DailySends.objects.exists()


def test_summaries_freeze_does_ahead_what_the_first_view_would(resolved):
    assert summaries_freeze() == 1
    assert IncidentSummary.objects.filter(incident=resolved).exists()
    assert summaries_freeze() == 0


def test_a_frozen_summary_counts_what_the_live_pages_count(resolved):
    """Firing triggers only (a sender's acknowledge / resolve listed apart), services named
    by failures only, and a device told again in another generation counted once."""
    from support.reports import report
    from support.selectors import incident_counts, incident_reach

    trigger = Trigger.objects.filter(incident=resolved).first()
    for status in (Trigger.Status.ACKNOWLEDGED, Trigger.Status.RESOLVED):
        trigger.pk = None
        trigger.status = status
        trigger.save()
    trigger.pk, trigger.status, trigger.service = None, Trigger.Status.FIRING, ""
    trigger.save()
    record = PushRecord.objects.filter(
        incident=resolved, purpose=PushRecord.Purpose.OUTAGE, status=PushRecord.Status.SENT
    ).first()
    record.pk, record.generation = None, record.generation + 1
    record.save()

    first = incident_figures([resolved])[resolved.pk]
    assert IncidentSummary.objects.filter(incident=resolved).exists()
    for figures in (first, incident_figures([resolved])[resolved.pk]):  # counted, then frozen
        counts = incident_counts(resolved, figures)
        assert counts["triggers"] == 23
        assert sum(c["n"] for c in counts["codes"]) == 23
        assert [s["n"] for s in counts["sender_states"]] == [1, 1]
        assert "" not in figures.services
        reach = incident_reach([resolved], {resolved.pk: figures})[resolved.pk]
        assert (reach.devices, reach.customers) == (3, 2)
    period = reports.Period(
        timezone.localdate(resolved.opened_at), timezone.localdate(resolved.opened_at)
    )
    services = report(period)["per_service"]["services"]
    assert "" not in services and services
