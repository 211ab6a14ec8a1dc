"""An incident's reports and the big admin lists read indexes, not a year of rows."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import make_scenario, record_report
from incidents.counting import partitions
from incidents.counting.bounds import incident_bounds_fill
from incidents.counting.drain import report_process
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


@pytest.fixture(params=["unbounded", "bounded"])
def either(request, incident):
    """The incident read as an older one (no bounds, counted) and with its bounds filled."""
    if request.param == "bounded":
        incident_bounds_fill()
        incident.refresh_from_db()
        assert incident.report_count == 30
    return incident


def test_reports_come_newest_first_once_each(either):
    reports = IncidentReports(either)
    assert reports.count() == 30
    page = reports[5:8]
    assert [r.payload["seq"] for r in page] == [24, 23, 22]
    assert [r.payload["seq"] for r in incident_reports(either, limit=3)] == [29, 28, 27]
    assert [r.payload["seq"] for r in reports[28:40]] == [1, 0]
    assert reports[30:35] == []


def test_a_page_of_reports_costs_two_queries_however_many_there_are(
    incident, django_assert_num_queries
):
    with django_assert_num_queries(2):
        IncidentReports(incident)[0:5]


def test_the_reports_api_pages_with_a_count(admin_client, either):
    url = f"/api/v1/incidents/{either.pk}/reports"
    body = admin_client.get(url, {"limit": 4}).json()
    assert body["count"] == 30
    assert [r["payload"]["seq"] for r in body["results"]] == [29, 28, 27, 26]
    assert body["next"]
    last = admin_client.get(url, {"limit": 4, "offset": 28}).json()
    assert [r["payload"]["seq"] for r in last["results"]] == [1, 0]
    assert last["next"] is None


# The API's incident page (with its deliveries, paged and pushed past 10 occurrences)
# and its reports page, with the session, the user and their preferences: the
# incident's reports are one read of its triggers and one of its reports, whatever
# their number; the reports page takes its count from the incident.
PAGE_QUERIES = {"": 15, "reports": 6}


def reads_of(queries, table) -> list[str]:
    return [q["sql"] for q in queries if f'FROM "{table}"' in q["sql"]]


@pytest.mark.parametrize("page", sorted(PAGE_QUERIES))
def test_an_incidents_api_pages_cost_the_same_queries_for_12_reports_as_for_40(
    admin_client, scenario, page
):
    def view():
        incident = Incident.objects.get()
        url = f"/api/v1/incidents/{incident.pk}/{page}"
        admin_client.get(url)  # the session's first request costs more
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        triggers = reads_of(captured, "incidents_trigger")
        reports = reads_of(captured, "incidents_report")
        assert len(triggers) == len(reports) == 1, triggers + reports
        # Each read names the days to look in (PostgreSQL plans only those partitions).
        for sql in triggers + reports:
            assert re.search(r'"received_at" >= .* AND .*"received_at" <= ', sql), sql
        assert "COUNT(" not in triggers[0]
        return len(captured)

    for _ in range(12):
        report_process(record_report().id)
    small = view()
    for _ in range(28):
        report_process(record_report().id)
    assert Incident.objects.get().report_count == 40
    assert view() == small == PAGE_QUERIES[page]


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


def scanned(sql, params) -> set[str]:
    """Return the partitions of reports and triggers a query's plan reads."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return set(re.findall(r" on (incidents_(?:trigger|report)_\w+)", plan))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL partition pruning")
def test_an_incidents_reads_plan_only_the_days_of_its_triggers(scenario):
    day = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    days = [day - datetime.timedelta(days=n) for n in range(8)]
    # Other days' traffic (unmatched triggers), the incident's over two days (received
    # before its opening too: the later report is counted first), then more traffic.
    for at in days[5:] + days[:2]:
        with time_machine.travel(at, tick=False):
            report_process(record_report(("other", "500")).id)
    reports = []
    for at in (days[4], days[3]):
        with time_machine.travel(at, tick=False):
            reports.append(record_report())
    for report in reversed(reports):
        report_process(report.id)
    partitions.partitions_maintain(now=day)
    incident = Incident.objects.get()
    assert incident.opened_at == days[3] and incident.first_received_at == days[4]

    def partition(table, at):
        return partitions.partition_name(table, at.date())

    pairs = IncidentReports(incident).pairs
    assert scanned(*pairs[:5].query.sql_with_params()) == {
        partition("incidents_trigger", days[4]),
        partition("incidents_trigger", days[3]),
    }
    assert scanned(*pairs.order_by().query.sql_with_params()) == {
        partition("incidents_trigger", days[4]),
        partition("incidents_trigger", days[3]),
    }
    with CaptureQueriesContext(connection) as captured:
        assert IncidentReports(incident)[0:1] == [reports[1]]
    lookup = captured.captured_queries[-1]["sql"]
    assert scanned(lookup, None) == {partition("incidents_report", days[3])}
