"""A report reads closed days from their stored sums and recounts a day that moved."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import Incident, Report, Trigger
from notifications.models import Delivery
from support import reports
from support.models import ResponseDay, ResponseDayRow

pytestmark = pytest.mark.django_db


def _incident(scenario, *, days_ago: int, open_: bool = False) -> Incident:
    """An incident opened at noon `days_ago`, paged at 1 min, acknowledged at 4, resolved at 10."""
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    opened = noon - timedelta(days=days_ago)
    incident = Incident.objects.create(
        action=scenario["action"],
        status=Incident.Status.OPEN if open_ else Incident.Status.RESOLVED,
        occurrences=1,
        opened_at=opened,
        last_occurrence_at=opened,
        acknowledged_at=opened + timedelta(minutes=4),
        resolved_at=None if open_ else opened + timedelta(minutes=10),
        policy={},
    )
    report = Report.objects.create(received_at=opened, payload={})
    Trigger.objects.create(
        report=report,
        service="login",
        code="503",
        received_at=opened,
        matched=True,
        incident=incident,
    )
    Delivery.objects.create(
        key=f"page-{uuid.uuid4()}",
        incident=incident,
        purpose=Delivery.Purpose.PAGE,
        team=scenario["teams"]["n1"],
        status=Delivery.Status.SENT,
        due_at=opened,
    )
    Delivery.objects.filter(incident=incident).update(created_at=opened + timedelta(minutes=1))
    return incident


def _month():
    return reports.period_of("30d", today=timezone.localdate())


def _figures():
    figures = reports.report(_month())
    [action] = figures["by_action"]
    [team] = figures["by_team"]
    return figures, action, team


def test_a_closed_day_is_summed_once_then_read_from_its_stored_rows(scenario):
    for days_ago in (3, 5, 5):
        _incident(scenario, days_ago=days_ago)
    figures, action, team = _figures()
    assert (figures["incidents"], action.incidents, action.resolved) == (3, 3, 3)
    assert (action.mtta, action.mttr) == (timedelta(minutes=4), timedelta(minutes=10))
    assert (team.label, team.mtta) == ("Analista N1", timedelta(minutes=3))
    assert sum(figures["per_service"]["services"]["login"]) == 3
    assert ResponseDay.objects.count() == 2
    # The stored sums are the answer: triggers gone behind their back change nothing.
    Trigger.objects.all().delete()
    again, _action, _team = _figures()
    assert again == figures


def test_a_year_of_closed_days_costs_the_queries_of_one(scenario):
    _incident(scenario, days_ago=3)
    reports.report(_month())
    with CaptureQueriesContext(connection) as one:
        reports.report(_month())
    for days_ago in range(4, 25):
        _incident(scenario, days_ago=days_ago)
    reports.report(_month())
    with CaptureQueriesContext(connection) as many:
        figures = reports.report(_month())
    assert figures["incidents"] == 22
    assert len(many) == len(one)


def test_a_reopened_day_is_counted_again_and_stored_afresh(scenario):
    incident = _incident(scenario, days_ago=3)
    _figures()
    stored = ResponseDay.objects.get()
    Incident.objects.filter(pk=incident.pk).update(
        status=Incident.Status.OPEN, resolved_at=None, reopens=1
    )
    figures, action, _team = _figures()
    assert (action.incidents, action.resolved, action.mttr) == (1, 0, None)
    Incident.objects.filter(pk=incident.pk).update(
        status=Incident.Status.RESOLVED, resolved_at=incident.opened_at + timedelta(minutes=30)
    )
    _figures_again, action, _team = _figures()
    assert action.mttr == timedelta(minutes=30)
    assert ResponseDay.objects.get().pk != stored.pk
    assert ResponseDay.objects.get().reopens == 1


def test_a_day_another_view_stores_meanwhile_is_counted_once(scenario):
    """The stored days summed are chosen in SQL: one stored after this view read them
    (by a view running alongside) is the day this view counts itself, not both."""
    _incident(scenario, days_ago=4)
    reports.report(_month())  # day 4 stored
    _incident(scenario, days_ago=3)  # day 3 not stored yet: this view counts it
    alongside = []

    def another_view_before_the_stored_days_are_summed(execute, sql, params, many, context):
        if not alongside and 'FROM "support_responsedayrow"' in sql:
            alongside.append("running")
            alongside.append(reports.report(_month()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(another_view_before_the_stored_days_are_summed):
        figures, action, _team = _figures()
    assert alongside
    assert ResponseDay.objects.count() == 2
    assert (figures["incidents"], action.incidents) == (2, 2)
    assert sum(figures["per_service"]["services"]["login"]) == 2


def test_today_and_days_with_an_open_incident_are_not_stored(scenario):
    _incident(scenario, days_ago=0)
    _incident(scenario, days_ago=2, open_=True)
    figures, action, _team = _figures()
    assert (action.incidents, action.resolved) == (2, 1)
    assert not ResponseDay.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL query plans")
def test_the_days_of_a_period_are_read_from_indexes(scenario):
    from support.report_days import fingerprint_rows

    tz = timezone.get_current_timezone()
    now = timezone.now()
    queries = [
        fingerprint_rows(now - timedelta(days=365), now, tz),
        # The stored days summed: the period's, but those recounted.
        ResponseDayRow.objects.filter(
            response_day__in=ResponseDay.objects.filter(
                zone=str(tz), day__gte=now.date() - timedelta(days=365), day__lte=now.date()
            ).exclude(day__in=[now.date()])
        ).values("key"),
    ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
        # The test tables are tiny: make the planner show whether an index can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = []
        for queryset in queries:
            sql, params = queryset.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert "incident_opened" in plans[0]
    assert "one_response_day_per_zone_day" in plans[1]
    assert "one_response_row_per_day_kind_key" in plans[1]
    assert "Seq Scan" not in "".join(plans)
