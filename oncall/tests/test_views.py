"""The person page: next shifts, hand a shift over, own contact methods, test page, calendar."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from notifications.models import Delivery
from oncall import selectors, services
from oncall.models import CalendarToken, ContactMethod, Schedule, Shift
from oncall.tests.conftest import MONDAY


def client_of(user, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def ready(schedule):
    services.schedule_shifts_refresh(schedule.pk)
    return Schedule.objects.get(pk=schedule.pk)


def test_my_page_lists_my_next_shifts(ready, people):
    page = client_of(people["bruno"]).get("/oncall/")
    assert page.status_code == 200
    assert len(page.context["shifts"]) == 20
    assert {s.user_id for s in page.context["shifts"]} == {people["bruno"].pk}
    assert "My next shifts" in page.content.decode()


def test_the_page_speaks_portuguese(ready, people):
    page = client_of(people["bruno"], "pt-BR").get("/oncall/")
    assert "Meus próximos plantões" in page.content.decode()


def test_nobody_without_a_role_sees_it_and_the_anonymous_are_sent_to_log_in(people):
    plain = User.objects.create_user("plain", is_staff=True)
    assert client_of(plain).get("/oncall/").status_code == 403
    assert Client().get("/oncall/")["Location"].startswith("/admin/login/")
    # A form sent logged out comes back to the page that holds it, not to a POST-only URL.
    sent = Client().post("/oncall/test-page/")
    assert sent["Location"] == "/admin/login/?next=/oncall/"


def test_handing_my_shift_to_a_colleague_makes_them_on_call(ready, people):
    shift = Shift.objects.filter(user=people["bruno"]).order_by("start").first()
    response = client_of(people["bruno"]).post(
        f"/oncall/shifts/{shift.pk}/hand-over/", {"to": people["carla"].pk}
    )
    assert response.status_code == 302
    ready.refresh_from_db()
    assert selectors.oncall_at(ready, shift.start + timedelta(hours=1)) == [people["carla"]]
    # Someone else's shift is not mine to hand over.
    other = Shift.objects.filter(user=people["ana"]).first()
    assert (
        client_of(people["bruno"])
        .post(f"/oncall/shifts/{other.pk}/hand-over/", {"to": people["carla"].pk})
        .status_code
        == 404
    )


def test_i_add_and_remove_my_own_contact_methods_only(people):
    client = client_of(people["ana"])
    refused = client.post(
        "/oncall/contact-methods/",
        {"kind": "sms", "address": "123", "delay_minutes": 0, "position": 0},
    )
    assert refused.status_code == 400
    assert "E.164" in refused.content.decode()
    added = client.post(
        "/oncall/contact-methods/",
        {
            "kind": "sms",
            "address": "+5511999990001",
            "delay_minutes": 0,
            "position": 0,
            "enabled": "on",
        },
    )
    assert added.status_code == 302
    method = ContactMethod.objects.get(user=people["ana"])
    edit = f"/oncall/contact-methods/{method.pk}/"
    assert client.post(edit, {"position": 2, "delay_minutes": 10}).status_code == 302
    method.refresh_from_db()
    assert (method.position, method.delay_minutes, method.enabled) == (2, 10, False)
    assert (
        client_of(people["bruno"]).post(edit, {"position": 0, "delay_minutes": 0}).status_code
        == 404
    )
    assert (
        client_of(people["bruno"]).post(f"/oncall/contact-methods/{method.pk}/delete/").status_code
        == 404
    )
    assert client.post(f"/oncall/contact-methods/{method.pk}/delete/").status_code == 302
    assert not ContactMethod.objects.exists()


def test_a_test_page_to_myself_queues_one_delivery_per_method(people, settings):
    ContactMethod.objects.create(user=people["ana"], kind="sms", address="+5511999990001")
    ContactMethod.objects.create(user=people["ana"], kind="email", address="ana@bank.test")
    assert client_of(people["ana"]).post("/oncall/test-page/").status_code == 302
    assert Delivery.objects.filter(person=people["ana"], purpose="page").count() == 2


def test_my_calendar_link_is_shown_once_then_only_its_prefix(ready, people):
    client = client_of(people["ana"])
    response = client.post("/oncall/calendar/regenerate/", follow=True)
    text = response.content.decode()
    token = text.split("/oncall/calendar/")[1].split(".ics")[0]
    assert CalendarToken.objects.get(user=people["ana"]).prefix == token[:12]
    assert Client().get(f"/oncall/calendar/{token}.ics").status_code == 200
    again = client.get("/oncall/").content.decode()
    assert token not in again and token[:12] in again
    client.post("/oncall/calendar/revoke/")
    assert Client().get(f"/oncall/calendar/{token}.ics").status_code == 404


def test_a_wrong_calendar_token_counts_as_a_failed_authentication(settings, db):
    settings.CXHUB_AUTH_FAILURES_PER_MINUTE = 2
    client = Client()
    assert client.get("/oncall/calendar/cxcal_nope.ics").status_code == 404
    assert client.get("/oncall/calendar/cxcal_nope.ics").status_code == 404
    refused = client.get("/oncall/calendar/cxcal_nope.ics")
    assert refused.status_code == 429 and refused["Retry-After"]


def test_the_monday_clock_is_in_force(ready):
    assert ready.shifts_from == MONDAY
