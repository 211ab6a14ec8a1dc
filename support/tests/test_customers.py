"""The customer lookup: was customer X told, on which device, when, and the all-clear."""

import pytest
from django.urls import reverse

from incidents.models import Incident
from incidents.services import incident_resolve
from notifications.models import Delivery, Device
from support.tests.test_views import post_triggers

pytestmark = pytest.mark.usefixtures("eager_celery")


@pytest.fixture
def resolved(scenario, ingest_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_triggers(ingest_client, 6)
    incident = Incident.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        incident_resolve(incident_id=incident.pk, by="sam")
    return incident


def lookup(client, user, q):
    client.force_login(user)
    return client.get(reverse("support:customers"), {"q": q})


def test_lookup_shows_each_push_and_the_all_clear_with_token_tails_only(
    client, support_user, resolved
):
    page = lookup(client, support_user, "c1").content.decode()
    assert 'id="customer">c1<' in page
    assert "login" in page
    # Two devices, by tail; never a whole token.
    assert "…tok-c1-a" in page and "…tok-c1-b" in page
    for token in Device.objects.filter(customer__external_id="c1").values_list("token", flat=True):
        assert f">{token}<" not in page
    assert reverse("support:incident", args=[resolved.pk]) in page
    assert page.count("Infelizmente nosso app está indisponível") == 2  # one per device
    assert page.count("Voltamos a funcionar") == 2  # the all-clear, one per device
    assert page.count('class="p-sent"') == 4


def test_lookup_of_a_customer_of_another_service_shows_no_push(client, support_user, resolved):
    page = lookup(client, support_user, "c3").content.decode()
    assert "…tok-c3" in page
    assert reverse("support:incident", args=[resolved.pk]) not in page
    assert "No incident concerned this customer." in page


def test_lookup_shows_a_cancelled_batch_for_the_customers_device(
    client, support_user, scenario, ingest_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_triggers(ingest_client, 4)
    incident = Incident.objects.get()
    device = scenario["devices"]["tok-c2"]
    Delivery.objects.create(
        key="push:test:cancelled",
        incident=incident,
        purpose=Delivery.Purpose.PUSH,
        message="held text",
        recipients=[device.pk],
        size=1,
        status=Delivery.Status.CANCELLED,
        last_error="Stopped by the global push kill switch (cx).",
        due_at=incident.opened_at,
    )
    page = lookup(client, support_user, "c2").content.decode()
    assert 'class="p-cancelled"' in page
    assert "kill switch" in page


def test_an_unknown_customer_is_said_so(client, support_user, db):
    page = lookup(client, support_user, "nobody").content.decode()
    assert "No customer has the external id “nobody”." in page


def test_lookup_needs_the_customer_view_permission(client, django_user_model, db):
    user = django_user_model.objects.create_user("x", password="pw-long-enough", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("support:customers"), {"q": "c1"}).status_code == 403


def test_cx_staff_may_look_customers_up_too(client, cx_user, resolved):
    assert lookup(client, cx_user, "c1").status_code == 200


def test_lookup_shows_a_push_held_for_the_customers_morning_with_when_it_goes(
    client, support_user, scenario, ingest_client, django_capture_on_commit_callbacks, settings
):
    from datetime import UTC, datetime, time

    import time_machine

    from notifications.models import Customer

    settings.CXHUB_QUIET_WINDOW = (time(22, 0), time(8, 0))
    Customer.objects.filter(external_id="c1").update(time_zone="America/Sao_Paulo")
    Customer.objects.filter(external_id="c2").update(time_zone="Asia/Tokyo")
    # 23:00 in Sao Paulo, 11:00 in Tokyo.
    with time_machine.travel(datetime(2026, 12, 1, 2, 0, tzinfo=UTC), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            post_triggers(ingest_client, 5)
        page = lookup(client, support_user, "c1").content.decode()
        incident_page = client.get(
            reverse("support:incident", args=[Incident.objects.get().pk])
        ).content.decode()
    assert "Nothing was pushed to this customer" not in page
    assert page.count('class="p-held"') == 2  # both devices
    assert "quiet hours: waits for the customers" in page
    assert "goes at 2026-12-01 08:00:00 UTC-0300" in page
    assert "quiet hours: waits for the customers" in incident_page
    assert "goes at 2026-12-01 08:00 UTC-0300" in incident_page
