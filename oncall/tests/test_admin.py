"""The admin: a schedule shows who is on call now and its gaps; CX staff edit anyone's contacts."""

from datetime import timedelta

from django.test import Client

from oncall.models import ContactMethod, Layer, Schedule, Shift
from oncall.tests.conftest import MONDAY


def client_of(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_schedule_page_shows_who_is_on_call_and_the_gaps(schedule, people):
    Layer.objects.filter(schedule=schedule).update(end=MONDAY + timedelta(days=3))
    page = client_of(people["ana"]).get(f"/admin/oncall/schedule/{schedule.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "on call now" in text.lower() and "ana" in text
    assert "2026-06-04" in text  # the gap after the layer ends


def test_saving_a_schedule_in_the_admin_materializes_its_shifts(people):
    cx = client_of(people["cx"])
    response = cx.post(
        "/admin/oncall/schedule/add/",
        {
            "name": "N2",
            "time_zone": "America/Sao_Paulo",
            "team": "",
            "ical_url": "",
            "layers-TOTAL_FORMS": "1",
            "layers-INITIAL_FORMS": "0",
            "layers-0-order": "1",
            "layers-0-name": "",
            "layers-0-rotation_type": "weekly",
            "layers-0-rotation_length": "",
            "layers-0-start_0": "2026-06-01",
            "layers-0-start_1": "09:00:00",
            "layers-0-end_0": "",
            "layers-0-end_1": "",
            "overrides-TOTAL_FORMS": "1",
            "overrides-INITIAL_FORMS": "0",
            "overrides-0-user": people["carla"].pk,
            "overrides-0-start_0": "2026-06-02",
            "overrides-0-start_1": "10:00:00",
            "overrides-0-end_0": "2026-06-02",
            "overrides-0-end_1": "12:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    schedule = Schedule.objects.get(name="N2")
    assert schedule.shifts_until == MONDAY + timedelta(days=56)
    [shift] = Shift.objects.filter(schedule=schedule)
    assert shift.user == people["carla"] and shift.source == "override"
    assert schedule.overrides.get().created_by == people["cx"]


def test_cx_staff_edit_anyone_s_contact_methods_and_support_does_not_see_them(people):
    ana = people["ana"]
    method = ContactMethod.objects.create(
        user=ana, kind="apprise", address="json://127.0.0.1:9/hook?token=s3cret"
    )
    url = f"/admin/oncall/responder/{ana.pk}/change/"
    page = client_of(people["cx"]).get(url)
    assert page.status_code == 200
    assert "s3cret" not in page.content.decode()  # an Apprise URL is never sent back
    assert "Contact methods" in page.content.decode()
    assert "Contact methods" not in client_of(people["bruno"]).get(url).content.decode()
    form = {
        "contact_methods-TOTAL_FORMS": "2",
        "contact_methods-INITIAL_FORMS": "1",
        "contact_methods-0-id": method.pk,
        "contact_methods-0-user": ana.pk,
        "contact_methods-0-position": "1",
        "contact_methods-0-kind": "apprise",
        "contact_methods-0-address": "",
        "contact_methods-0-delay_minutes": "5",
        "contact_methods-0-enabled": "on",
        "contact_methods-1-user": ana.pk,
        "contact_methods-1-position": "0",
        "contact_methods-1-kind": "sms",
        "contact_methods-1-address": "not a number",
        "contact_methods-1-delay_minutes": "0",
        "contact_methods-1-enabled": "on",
    }
    refused = client_of(people["cx"]).post(url, form)
    assert refused.status_code == 200 and "E.164" in refused.content.decode()
    form["contact_methods-1-address"] = "+5511999990001"
    assert client_of(people["cx"]).post(url, form).status_code == 302
    method.refresh_from_db()
    assert method.address.endswith("s3cret") and method.delay_minutes == 5
    assert ana.contact_methods.filter(kind="sms").exists()
