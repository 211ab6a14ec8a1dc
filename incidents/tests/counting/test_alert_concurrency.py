"""Re-sent alerts processed at the same moment count once: the constraint, not an `if`."""

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from actions.models import TriggerRule
from conftest import make_scenario
from incidents import services
from incidents.counting import drain
from incidents.models import AlertInstance, Incident, Integration

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)"
)
def test_concurrent_reports_carrying_the_same_alert_count_it_once():
    scenario = make_scenario()
    TriggerRule.objects.create(action=scenario["action"], service=scenario["login"], code="Down")
    integration = Integration(name="am", kind="alertmanager")
    integration.set_new_token()
    integration.save()
    starts = timezone.now()
    reports = []
    for index in range(THREADS):
        # Every notification re-sends alert "a" and brings one alert of its own.
        triggers = [
            {"service": "login", "code": "Down", "fingerprint": fp, "starts_at": starts}
            for fp in ("a", f"own-{index}")
        ]
        report, _ = services.report_ingest(integration=integration, triggers=triggers, payload={})
        reports.append((report.id, report.received_at))

    barrier = threading.Barrier(THREADS)
    errors = []

    def process(report_id, received_at):
        try:
            barrier.wait(timeout=10)
            # Straight to the claim, past the integration lock that normally serializes
            # these: only the unique constraints stand between the threads.
            with transaction.atomic():
                drain._ordered_report_count(report_id, received_at, now=timezone.now())
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=process, args=r) for r in reports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    incident = Incident.objects.get()
    assert incident.occurrences == THREADS + 1
    assert AlertInstance.objects.filter(fingerprint="a").count() == 1
    assert incident.alerts.count() == THREADS + 1
