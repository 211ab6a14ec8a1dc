"""Recurring maintenance: the RRULE's expansion, the windows written ahead, and their holds."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from incidents import services
from incidents.lifecycle.recurrence import (
    recurrence_delete,
    recurrence_materialize,
    recurrence_saved,
    recurrences_materialize,
)
from incidents.models import Incident, Integration, MaintenanceWindow, RecurringMaintenance
from incidents.models.recurrence import (
    RecurrenceError,
    maintenance_occurrences,
    rrule_occurrences,
    rule_parse,
)
from notifications.models import Delivery

SUNDAYS = "FREQ=WEEKLY;BYDAY=SU"
# A Thursday, 12:00 UTC (09:00 in Sao Paulo).
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def expand(rule=SUNDAYS, zone="America/Sao_Paulo", start=NOW, days=15, **kw):
    return rrule_occurrences(
        rule,
        starts_on=kw.get("starts_on", date(2026, 1, 1)),
        start_time=kw.get("start_time", time(2, 0)),
        duration=kw.get("duration", timedelta(hours=2)),
        time_zone=zone,
        start=start,
        end=start + timedelta(days=days),
    )


def test_every_sunday_at_two_in_sao_paulo_is_five_utc():
    assert expand() == [
        (datetime(2026, 12, 6, 5, tzinfo=UTC), datetime(2026, 12, 6, 7, tzinfo=UTC)),
        (datetime(2026, 12, 13, 5, tzinfo=UTC), datetime(2026, 12, 13, 7, tzinfo=UTC)),
    ]


def test_the_wall_clock_time_holds_across_a_daylight_saving_change():
    # Berlin leaves summer time on 25 October 2026 at 03:00: 10:00 local is 08:00Z, then 09:00Z.
    found = expand(
        zone="Europe/Berlin",
        start=datetime(2026, 10, 15, tzinfo=UTC),
        days=16,
        start_time=time(10, 0),
    )
    assert [start.hour for start, _end in found] == [8, 9]


def test_the_rule_bounds_and_count_are_respected():
    assert expand(starts_on=date(2026, 12, 10)) == expand()[1:]
    assert len(expand("FREQ=DAILY;COUNT=3", starts_on=date(2026, 12, 3), days=30)) == 2
    assert expand("FREQ=WEEKLY;BYDAY=SU;UNTIL=20261207T000000Z") == expand()[:1]


@pytest.mark.parametrize(
    "rule",
    ["", "FREQ=HOURLY", "FREQ=MINUTELY", "DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "nonsense"],
)
def test_rules_cxhub_does_not_expand_are_refused(rule):
    with pytest.raises(RecurrenceError):
        rule_parse(rule, dtstart=datetime(2026, 1, 1))


@pytest.fixture
def sundays(scenario):
    return RecurringMaintenance.objects.create(
        service=scenario["login"],
        rule=SUNDAYS,
        starts_on=date(2026, 1, 1),
        start_time=time(2, 0),
        duration_minutes=120,
        time_zone="America/Sao_Paulo",
        reason="Atualização semanal",
        status_visible=True,
    )


def test_the_admin_form_refuses_a_bad_rule(sundays):
    sundays.rule = "FREQ=SECONDLY"
    with pytest.raises(ValidationError) as error:
        sundays.full_clean()
    assert "rule" in error.value.message_dict


def test_occurrences_are_written_ahead_once(sundays, settings):
    settings.CXHUB_MAINTENANCE_HORIZON_DAYS = 21
    assert recurrence_materialize(sundays.pk, now=NOW) == 3
    windows = list(MaintenanceWindow.objects.order_by("starts_at"))
    assert [w.starts_at for w in windows] == [
        datetime(2026, 12, d, 5, tzinfo=UTC) for d in (6, 13, 20)
    ]
    assert all(w.recurrence_id == sundays.pk and w.status_visible for w in windows)
    assert all(w.service_id == sundays.service_id and w.reason == sundays.reason for w in windows)
    # The beat again: nothing new until the horizon moves; a week later, one more.
    assert recurrences_materialize(now=NOW) == 0
    assert recurrences_materialize(now=NOW + timedelta(days=7)) == 1
    assert MaintenanceWindow.objects.count() == 4


def test_a_cancelled_occurrence_is_not_written_again(sundays, settings):
    settings.CXHUB_MAINTENANCE_HORIZON_DAYS = 14
    recurrence_materialize(sundays.pk, now=NOW)
    first = MaintenanceWindow.objects.order_by("starts_at").first()
    assert services.maintenance_end(window_id=first.pk, by="cx", now=NOW)  # not started: cancel
    recurrences_materialize(now=NOW + timedelta(hours=1))
    assert not MaintenanceWindow.objects.filter(starts_at=first.starts_at).exists()


def test_an_edit_rewrites_the_occurrences_not_started(sundays, settings):
    settings.CXHUB_MAINTENANCE_HORIZON_DAYS = 14
    running_at = datetime(2026, 12, 6, 6, 30, tzinfo=UTC)  # inside Sunday's 05:00-07:00Z
    recurrence_materialize(sundays.pk, now=running_at)
    sundays.start_time = time(3, 0)
    sundays.save()
    recurrence_saved(sundays, now=running_at)
    starts = list(
        MaintenanceWindow.objects.order_by("starts_at").values_list("starts_at", flat=True)
    )
    # The running one stays as it was; the next ones move to 03:00 local (06:00Z), the
    # one the new rule would have started at 06:00Z today included only if not begun.
    assert starts[0] == datetime(2026, 12, 6, 5, tzinfo=UTC)
    assert starts[1:] == [datetime(2026, 12, d, 6, tzinfo=UTC) for d in (13, 20)]
    recurrence_delete(sundays, now=running_at)
    assert list(MaintenanceWindow.objects.values_list("starts_at", "recurrence")) == [
        (datetime(2026, 12, 6, 5, tzinfo=UTC), None)
    ]


def test_an_occurrence_holds_pushes_and_pages_like_a_one_off_window(sundays, settings):
    settings.CXHUB_MAINTENANCE_HORIZON_DAYS = 14
    sunday = datetime(2026, 12, 6, 5, 30, tzinfo=UTC)
    with time_machine.travel(sunday, tick=False):
        recurrences_materialize()
        integration = Integration.objects.create(name="m", token_hash="h")
        for _ in range(25):
            report, _ = services.report_ingest(
                integration=integration, triggers=[{"service": "login", "code": "503"}], payload={}
            )
            services.report_process(report.id)
        incident = Incident.objects.get()
        window = MaintenanceWindow.objects.get(starts_at__lte=sunday, ends_at__gt=sunday)
        assert incident.maintenance_id == window.pk
        assert incident.maintenance_until == window.ends_at
        assert not Delivery.objects.exists()
    with time_machine.travel(window.ends_at, tick=False):
        services.sweep()
    assert Delivery.objects.filter(purpose="push").count() == 1


def test_maintenance_occurrences_lists_one_off_and_recurring_windows_in_a_range(sundays, settings):
    settings.CXHUB_MAINTENANCE_HORIZON_DAYS = 14
    recurrence_materialize(sundays.pk, now=NOW)
    one_off = MaintenanceWindow.objects.create(
        service=sundays.service,
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=1, hours=1),
        reason="Troca de certificado",
    )
    found = maintenance_occurrences(NOW, NOW + timedelta(days=7))
    assert [(o.id, o.recurrence_id) for o in found] == [
        (one_off.pk, None),
        (MaintenanceWindow.objects.get(starts_at__day=6).pk, sundays.pk),
    ]
    assert found[1].starts_at == datetime(2026, 12, 6, 5, tzinfo=UTC)


def test_saving_in_the_admin_writes_the_occurrences_and_deleting_drops_those_ahead(
    scenario, admin_client
):
    from django.urls import reverse
    from django.utils import timezone

    response = admin_client.post(
        reverse("admin:incidents_recurringmaintenance_add"),
        {
            "service": scenario["login"].pk,
            "rule": SUNDAYS,
            "starts_on": "2026-01-01",
            "start_time": "02:00",
            "duration_minutes": "120",
            "time_zone": "America/Sao_Paulo",
            "reason": "Atualização semanal",
            "status_visible": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = RecurringMaintenance.objects.get()
    assert rule.created_by == "admin"
    assert MaintenanceWindow.objects.filter(recurrence=rule, status_visible=True).count() >= 4
    page = admin_client.get(reverse("admin:incidents_recurringmaintenance_change", args=[rule.pk]))
    assert "Next occurrences" in page.content.decode()
    admin_client.post(
        reverse("admin:incidents_recurringmaintenance_delete", args=[rule.pk]), {"post": "yes"}
    )
    assert not RecurringMaintenance.objects.exists()
    # Those ahead go; one running now (on a Sunday night) would stay as a record.
    assert not MaintenanceWindow.objects.filter(starts_at__gt=timezone.now()).exists()
    bad = admin_client.post(
        reverse("admin:incidents_recurringmaintenance_add"),
        {
            "service": scenario["login"].pk,
            "rule": "FREQ=MINUTELY",
            "starts_on": "2026-01-01",
            "start_time": "02:00",
            "duration_minutes": "120",
            "time_zone": "America/Sao_Paulo",
            "reason": "x",
        },
    )
    assert bad.status_code == 200 and "Repeat daily, weekly, monthly or yearly." in (
        bad.content.decode()
    )
