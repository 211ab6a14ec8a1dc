"""Materialized shifts, who is on call, overrides, hand-overs, calendar links, test pages."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications import fallback
from notifications.models import Delivery
from notifications.services import delivery_send
from notifications.tests.fake_gateways import FakeMessageGateway
from oncall import selectors, services
from oncall.models import ContactMethod, Restriction, Schedule, Shift
from oncall.tests.conftest import MONDAY, daily_schedule

HOUR = timedelta(hours=1)


def refreshed(schedule, now=MONDAY):
    services.schedule_shifts_refresh(schedule.pk, now=now)
    return Schedule.objects.get(pk=schedule.pk)


def names(users):
    return [u.username for u in users]


def test_who_is_on_call_is_one_indexed_query_on_materialized_shifts(schedule, people):
    schedule = refreshed(schedule)
    assert Shift.objects.filter(schedule=schedule).count() == 56  # eight weeks of days
    with CaptureQueriesContext(connection) as queries:
        assert names(selectors.oncall_at(schedule, MONDAY + 3 * HOUR)) == ["ana"]
    assert len(queries) == 1
    assert "shift" in queries[0]["sql"].lower()
    assert names(selectors.oncall_at(schedule, MONDAY + 26 * HOUR)) == ["bruno"]


def test_a_running_shift_stays_one_row_across_refreshes_until_it_changes(schedule, people):
    refreshed(schedule)
    for minutes in (5, 20, 60):  # the beat task, every few minutes
        refreshed(schedule, now=MONDAY + timedelta(minutes=minutes))

    today = Shift.objects.filter(schedule=schedule, start__lte=MONDAY + HOUR, end__gt=MONDAY)
    assert [(s.user.username, s.start, s.end) for s in today] == [
        ("ana", MONDAY, MONDAY + timedelta(days=1))
    ]
    # An override from now on cuts it: the part before stays as the record.
    services.override_create(
        schedule=schedule, user=people["bruno"], start=MONDAY + 2 * HOUR, end=MONDAY + 3 * HOUR
    )
    refreshed(schedule, now=MONDAY + 2 * HOUR)
    rows = Shift.objects.filter(schedule=schedule, start__lt=MONDAY + 4 * HOUR).order_by("start")
    assert [(s.user.username, s.start, s.end) for s in rows] == [
        ("ana", MONDAY, MONDAY + 2 * HOUR),
        ("bruno", MONDAY + 2 * HOUR, MONDAY + 3 * HOUR),
        ("ana", MONDAY + 3 * HOUR, MONDAY + timedelta(days=1)),
    ]


def test_past_the_horizon_the_final_schedule_is_computed_for_that_instant(schedule):
    schedule = refreshed(schedule)
    far = MONDAY + timedelta(days=365, hours=3)  # 365 turns later: the second person
    assert names(selectors.oncall_at(schedule, far)) == ["bruno"]
    # An unrefreshed schedule answers the same, computed.
    fresh = Schedule.objects.get(pk=schedule.pk)
    fresh.shifts_until = None
    assert names(selectors.oncall_at(fresh, MONDAY + 3 * HOUR)) == ["ana"]


def test_an_override_wins_then_its_removal_gives_the_shift_back(schedule, people):
    schedule = refreshed(schedule)
    override = services.override_create(
        schedule=schedule,
        user=people["carla"],
        start=MONDAY + 2 * HOUR,
        end=MONDAY + 4 * HOUR,
        by=people["cx"],
    )
    schedule.refresh_from_db()
    assert names(selectors.oncall_at(schedule, MONDAY + 3 * HOUR)) == ["carla"]
    assert [
        (i.user.username, i.source) for i in selectors.shifts(schedule, MONDAY, MONDAY + 5 * HOUR)
    ] == [
        ("ana", "layer"),
        ("carla", "override"),
        ("ana", "layer"),
    ]
    services.override_delete(override=override)
    assert names(selectors.oncall_at(schedule, MONDAY + 3 * HOUR)) == ["ana"]


def test_an_override_that_ends_before_it_starts_is_refused(schedule, people):
    with pytest.raises(ValidationError):
        services.override_create(
            schedule=schedule, user=people["carla"], start=MONDAY, end=MONDAY - HOUR
        )


def test_gaps_in_the_next_four_weeks_of_a_business_hours_schedule(people):
    schedule = daily_schedule(people)
    layer = schedule.layers.get()
    Restriction.objects.create(
        layer=layer,
        kind="week",
        start_day=0,
        start_time="09:00",
        duration=timedelta(days=4, hours=8),
    )
    schedule = refreshed(schedule)
    found = selectors.gaps(schedule, MONDAY, MONDAY + timedelta(weeks=4))
    assert len(found) == 5  # before the first Monday 09:00, then each weekend
    assert found[0] == (MONDAY, MONDAY + HOUR)  # 06:00 UTC is 08:00 in Berlin


def test_a_shift_is_handed_over_by_its_owner_only(schedule, people):
    schedule = refreshed(schedule)
    shift = Shift.objects.filter(schedule=schedule, user=people["bruno"]).order_by("start").first()
    with pytest.raises(ValidationError):
        services.shift_hand_over(shift=shift, to=people["carla"], by=people["ana"], now=MONDAY)
    services.shift_hand_over(shift=shift, to=people["carla"], by=people["bruno"], now=MONDAY)
    schedule.refresh_from_db()
    assert names(selectors.oncall_at(schedule, shift.start + HOUR)) == ["carla"]


def test_regenerating_a_calendar_link_stops_the_old_one(schedule, people):
    first = services.calendar_link_rotate(schedule=schedule)
    assert selectors.calendar_owner(first).schedule == schedule
    second = services.calendar_link_rotate(schedule=schedule)
    assert selectors.calendar_owner(first) is None
    assert selectors.calendar_owner(second).schedule == schedule
    mine = services.calendar_link_rotate(user=people["ana"])
    assert selectors.calendar_owner(mine).user == people["ana"]
    assert services.calendar_link_revoke(user=people["ana"]) == 1
    assert selectors.calendar_owner(mine) is None


@pytest.mark.parametrize(
    ("kind", "address", "problem"),
    [
        ("sms", "11999990000", "E.164"),
        ("email", "not-an-address", "valid email"),
        ("apprise", "nosuchservice://x", "Apprise knows no service"),
        ("apprise", "json://10.1.2.3/hook", "internal address"),
    ],
)
def test_a_contact_method_is_checked_like_a_team_channel(people, kind, address, problem):
    method = ContactMethod(user=people["ana"], kind=kind, address=address)
    with pytest.raises(ValidationError) as refused:
        services.contact_method_save(method)
    assert problem.lower() in " ".join(refused.value.message_dict["address"]).lower()


@pytest.fixture
def sms_gateway(settings):
    gateway = FakeMessageGateway("sms-secret")
    settings.CXHUB_SMS_PROVIDER = "webhook"
    settings.CXHUB_SMS_WEBHOOK_URL = gateway.url
    settings.CXHUB_SMS_WEBHOOK_SECRET = "sms-secret"
    settings.CXHUB_EMAIL_PROVIDER = "locmem"
    fallback.outbox.clear()
    yield gateway
    gateway.close()


def test_a_test_page_to_oneself_goes_through_the_sms_gateway_and_e_mail(people, sms_gateway):
    ana = people["ana"]
    services.contact_method_save(ContactMethod(user=ana, kind="sms", address="+5511999990001"))
    services.contact_method_save(
        ContactMethod(user=ana, kind="email", address="ana@bank.test", delay_minutes=5)
    )
    assert services.person_send_test_page(ana, by="ana") == 2
    for delivery in Delivery.objects.filter(person=ana):
        delivery_send(delivery.pk)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    [batch] = sms_gateway.accepted
    assert [r["to"] for r in batch["recipients"]] == ["+5511999990001"]
    assert "test page to ana" in batch["recipients"][0]["message"]
    assert [m["to"] for m in fallback.outbox] == [["ana@bank.test"]]
