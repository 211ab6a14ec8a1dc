"""Every path that links triggers to an incident keeps its trigger bounds and report count."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from actions.models import Action, TriggerRule
from conftest import record_report
from incidents import services
from incidents.counting.bounds import incident_bounds_fill
from incidents.counting.drain import report_process
from incidents.counting.retention import retention_prune
from incidents.models import Incident, Report, Trigger
from incidents.selectors import IncidentReports
from incidents.tests.senders import alert, make_integration, notification, process_all, send

pytestmark = pytest.mark.django_db
MIN = timedelta(minutes=1)


@pytest.fixture
def clock():
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        traveller.start = start
        traveller.at = lambda delta: traveller.move_to(start + delta)
        yield traveller


def assert_bounds_hold(incident) -> Incident:
    """Check the incident's bounds hold every trigger of it and its count is its reports."""
    incident.refresh_from_db()
    triggers = Trigger.objects.filter(incident=incident)
    assert triggers.exists()
    for at in triggers.values_list("received_at", flat=True):
        assert incident.first_received_at <= at <= incident.last_received_at
    assert incident.report_count == len(set(triggers.values_list("report_id", flat=True)))
    return incident


def newest_first(incident) -> list:
    """Return the incident's reports, as the API pages them, 2 at a time, newest first."""
    reports, pages = IncidentReports(incident), []
    for offset in range(0, reports.count(), 2):
        pages += reports[offset : offset + 2]
    return pages


def test_a_counted_storm_keeps_its_bounds_and_counts_each_report_once(scenario, clock):
    for minute in range(5):
        clock.at(minute * MIN)
        report_process(record_report().id)  # two triggers of the action, one report
    incident = assert_bounds_hold(Incident.objects.get())
    assert incident.report_count == 5
    assert incident.first_received_at == clock.start
    assert incident.last_received_at == clock.start + 4 * MIN
    assert newest_first(incident) == list(Report.objects.order_by("-received_at"))


def test_a_report_received_before_the_opening_is_counted_in_and_read(scenario, clock):
    # Two workers: the later report's batch commits first and opens the incident.
    early = record_report()
    clock.at(10 * MIN)
    late = record_report()
    report_process(late.id)
    report_process(early.id)
    incident = assert_bounds_hold(Incident.objects.get())
    assert incident.opened_at == clock.start + 10 * MIN
    assert incident.first_received_at == clock.start < incident.opened_at
    assert newest_first(incident) == [late, early]


def test_triage_reprocessing_counts_older_triggers_into_the_open_incident(scenario, clock):
    unmatched = record_report(("login", "500"))
    report_process(unmatched.id)
    clock.at(30 * MIN)
    report_process(record_report(("login", "503")).id)
    incident = Incident.objects.get()
    TriggerRule.objects.create(action=scenario["action"], service=scenario["login"], code="500")

    assert services.triage_reprocess(service="login", code="500")["triggers"] == 1

    incident = assert_bounds_hold(incident)
    assert incident.first_received_at == clock.start < incident.opened_at
    assert IncidentReports(incident).count() == 2
    assert newest_first(incident)[-1] == unmatched


def test_a_reprocessed_trigger_of_a_counted_report_changes_no_count(scenario, clock):
    report_process(record_report(("login", "503"), ("login", "500")).id)
    TriggerRule.objects.create(action=scenario["action"], service=scenario["login"], code="500")
    services.triage_reprocess(service="login", code="500")
    incident = assert_bounds_hold(Incident.objects.get())
    assert Trigger.objects.filter(incident=incident).count() == 2
    assert incident.report_count == 1


def test_a_senders_later_resolve_widens_the_bounds_and_counts_its_report_once(scenario, clock):
    TriggerRule.objects.create(
        action=scenario["action"], service=scenario["login"], code="HighErrorRate"
    )
    _, token = make_integration("alertmanager")
    send("alertmanager", token, notification(alert(fingerprint="a"), alert(fingerprint="b")))
    process_all()
    clock.at(5 * MIN)
    # One notification resolves a and fires c: one more report, however many triggers.
    send(
        "alertmanager",
        token,
        notification(alert(fingerprint="a", status="resolved"), alert(fingerprint="c")),
    )
    process_all()
    clock.at(9 * MIN)
    send("alertmanager", token, notification(alert(fingerprint="b", status="resolved")))
    process_all()
    incident = assert_bounds_hold(Incident.objects.get())
    assert incident.report_count == 3
    assert incident.last_received_at == clock.start + 9 * MIN
    assert len(newest_first(incident)) == 3


def test_a_reopened_incident_widens_its_bounds(scenario, clock):
    Action.objects.filter(pk=scenario["action"].pk).update(flap_minutes=30)
    report_process(record_report().id)
    incident = Incident.objects.get()
    services.incident_resolve(incident_id=incident.pk, by="ana", now=timezone.now())
    clock.at(10 * MIN)
    report_process(record_report().id)
    incident = assert_bounds_hold(Incident.objects.get())
    assert incident.reopens == 1
    assert incident.report_count == 2


def test_retention_forgets_the_count_of_an_incident_it_pruned(scenario, clock):
    for day in range(3):
        clock.at(timedelta(days=day))
        report_process(record_report().id)
    incident = Incident.objects.get()
    assert IncidentReports(incident).count() == 3

    retention_prune(now=clock.start + timedelta(days=3), trigger_days=1, delivery_days=3650)

    incident.refresh_from_db()
    assert incident.report_count is None
    assert IncidentReports(incident).count() == 1
    assert newest_first(incident) == list(Report.objects.all())


def test_filling_gives_older_incidents_the_bounds_of_their_triggers(scenario, clock):
    for minute in range(3):
        clock.at(minute * MIN)
        report_process(record_report().id)
    incident = Incident.objects.get()
    before = newest_first(incident)
    empty = Incident.objects.create(
        action=Action.objects.create(code="E", name="E"),
        occurrences=1,
        opened_at=clock.start,
        last_occurrence_at=clock.start,
        policy={},
    )
    Incident.objects.update(first_received_at=None, last_received_at=None, report_count=None)
    assert newest_first(Incident.objects.get(pk=incident.pk)) == before  # read unbounded

    assert incident_bounds_fill(batch=1) == 2

    assert assert_bounds_hold(incident).report_count == 3
    assert newest_first(incident) == before
    empty.refresh_from_db()
    assert (empty.first_received_at, empty.last_received_at) == (clock.start, clock.start)
    assert empty.report_count == 0
    assert incident_bounds_fill() == 0


def test_the_command_fills_again_what_an_earlier_release_counted(scenario, clock):
    report_process(record_report().id)
    clock.at(MIN)
    Incident.objects.update(last_received_at=clock.start)  # a worker that kept none
    report_process(record_report().id)
    Incident.objects.update(last_received_at=clock.start)
    out = io.StringIO()

    call_command("incident_bounds", "--again", stdout=out)

    assert "Filled the bounds of 1 incident(s)." in out.getvalue()
    assert assert_bounds_hold(Incident.objects.get()).last_received_at == clock.start + MIN


def test_an_older_incident_without_bounds_keeps_none_when_counted(scenario, clock):
    report_process(record_report().id)
    Incident.objects.update(first_received_at=None, last_received_at=None, report_count=None)
    clock.at(-60 * MIN)  # a trigger older than all, counted in
    report_process(record_report().id)
    incident = Incident.objects.get()
    assert (incident.first_received_at, incident.last_received_at) == (None, None)
    assert incident.report_count is None
    assert IncidentReports(incident).count() == 2
