"""An incident's reports and the big admin lists read indexes, not a year of rows."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import make_scenario
from incidents.models import Incident, Report, Trigger
from incidents.selectors import IncidentReports, incident_reports

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident():
    """An incident of 30 reports, each with two of its triggers, and another incident's."""
    scenario = make_scenario()
    now = timezone.now()
    incident = Incident.objects.create(
        action=scenario["action"], occurrences=30, opened_at=now, last_occurrence_at=now, policy={}
    )
    for i in range(31):
        at = now + datetime.timedelta(seconds=i)
        report = Report.objects.create(received_at=at, payload={"seq": i})
        for code in ("503", "404"):
            Trigger.objects.create(
                report=report,
                service="login",
                code=code,
                received_at=at,
                matched=True,
                incident=incident if i < 30 else None,
            )
    return incident


def test_reports_come_newest_first_once_each(incident):
    reports = IncidentReports(incident)
    assert reports.count() == 30
    page = reports[5:8]
    assert [r.payload["seq"] for r in page] == [24, 23, 22]
    assert [r.payload["seq"] for r in incident_reports(incident, limit=3)] == [29, 28, 27]


def test_a_page_of_reports_costs_two_queries_however_many_there_are(
    incident, django_assert_num_queries
):
    with django_assert_num_queries(2):
        IncidentReports(incident)[0:5]


def test_the_reports_api_pages_with_a_count(admin_client, incident):
    body = admin_client.get(f"/api/v1/incidents/{incident.pk}/reports", {"limit": 4}).json()
    assert body["count"] == 30
    assert [r["payload"]["seq"] for r in body["results"]] == [29, 28, 27, 26]
    assert body["next"]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/incidents/trigger/",
        "/admin/incidents/report/",
        "/admin/notifications/pushrecord/",
        "/admin/notifications/customer/",
    ],
)
def test_big_admin_lists_list_no_distinct_values_of_their_table(admin_client, incident, url):
    with CaptureQueriesContext(connection) as captured:
        assert admin_client.get(url).status_code == 200
    assert not [q["sql"] for q in captured.captured_queries if "DISTINCT" in q["sql"]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL query plans")
def test_a_page_of_reports_is_read_from_the_incident_index(incident):
    sql, params = IncidentReports(incident).pairs[:5].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_trigger")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        # Partitioned by day (PostgreSQL, incidents 0013), each day's scan uses that
        # day's copy of the index, a partition of trigger_incident_reports.
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'trigger_incident_reports'::regclass"
        )
        allowed = {"trigger_incident_reports"} | {row[0] for row in cursor.fetchall()}
    used = set(re.findall(r"using (\S+)", plan))
    assert used and used <= allowed, plan
    # No Sort node (a Merge Append of the days' ordered scans says "Sort Key" and sorts nothing).
    assert "Sort  (" not in plan, plan
