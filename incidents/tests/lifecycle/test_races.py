"""Races on a real database: concurrent acknowledgements and a concurrent reopen.

On PostgreSQL the threads really overlap (row locks, the partial unique
constraint); on SQLite IMMEDIATE transactions serialise them.
"""

import threading

import pytest
from django.db import connection

from actions.models import Action
from incidents import services
from incidents.models import Incident, Integration
from notifications.models import Delivery
from notifications.services import delivery_send

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads(target, count):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run(i):
        try:
            barrier.wait(timeout=10)
            results.append(target(i))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


def report():
    integration, _ = Integration.objects.get_or_create(name="tests", defaults={"token_hash": "x"})
    rep, _ = services.report_ingest(
        integration=integration, triggers=[{"service": "login", "code": "503"}], payload={}
    )
    return rep


def test_concurrent_acknowledgements_make_one_and_tell_teams_once(scenario):
    for _ in range(10):
        services.report_process(report().id)
    for delivery_id in Delivery.objects.values_list("id", flat=True):
        delivery_send(delivery_id)
    incident = Incident.objects.get()
    results = in_threads(
        lambda i: services.incident_acknowledge(incident_id=incident.pk, by=f"user{i}"), 4
    )
    assert sorted(results) == [False, False, False, True]
    assert incident.events.filter(kind="acknowledged").count() == 1
    assert Delivery.objects.filter(purpose="notice").count() == 1


def test_concurrent_triggers_in_the_flap_window_reopen_one_incident(scenario):
    Action.objects.filter(pk=scenario["action"].pk).update(flap_minutes=5)
    services.report_process(report().id)
    first = Incident.objects.get()
    services.incident_resolve(incident_id=first.pk, by="ana")
    reports = [report() for _ in range(4)]
    in_threads(lambda i: services.report_process(reports[i].id), 4)
    assert Incident.objects.count() == 1
    incident = Incident.objects.get()
    assert (incident.status, incident.occurrences) == ("open", 5)
    assert incident.events.filter(kind="reopened").count() == 1
