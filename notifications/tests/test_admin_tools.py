import pytest
from django.urls import reverse

from notifications import providers
from notifications.channels import locmem
from notifications.models import Customer, Delivery, Device

pytestmark = pytest.mark.usefixtures("eager_celery")


def test_test_page_goes_through_the_team_channel_each_time_asked(
    scenario, admin_client, django_capture_on_commit_callbacks
):
    team = scenario["teams"]["n1"]
    data = {"action": "send_test_page", "_selected_action": [team.pk]}
    url = reverse("admin:notifications_team_changelist")
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(url, data, follow=True)
        assert "Test page queued to Analista N1" in response.content.decode()
    assert [m["target"] for m in locmem.outbox] == ["n1", "n1"]
    assert "Test page for Analista N1" in locmem.outbox[0]["title"]
    deliveries = Delivery.objects.filter(key__startswith=f"test-page:{team.pk}:")
    assert deliveries.count() == 2
    assert {d.status for d in deliveries} == {Delivery.Status.SENT}


def test_test_push_reaches_exactly_one_device(
    scenario, admin_client, django_capture_on_commit_callbacks
):
    device = scenario["devices"]["tok-c2"]
    url = reverse("admin:notifications_device_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url, {"action": "send_test_push", "_selected_action": [device.pk]})
    [push] = providers.outbox
    assert push["tokens"] == ["tok-c2"]
    assert push["reference"].startswith(f"test-push:{device.pk}:")
    assert Delivery.objects.get(key=push["reference"]).status == Delivery.Status.SENT


def test_test_push_refuses_several_devices(scenario, admin_client):
    ids = [d.pk for d in scenario["devices"].values()][:2]
    url = reverse("admin:notifications_device_changelist")
    response = admin_client.post(
        url, {"action": "send_test_push", "_selected_action": ids}, follow=True
    )
    assert "Select exactly one device" in response.content.decode()
    assert not Delivery.objects.exists()


def test_test_push_skips_a_disabled_device(scenario, admin_client):
    customer = Customer.objects.create(external_id="c-off")
    device = Device.objects.create(
        customer=customer, platform="android", token="t-off", enabled=False
    )
    response = admin_client.post(
        "/admin/notifications/device/",
        {"action": "send_test_push", "_selected_action": [device.pk]},
        follow=True,
    )
    assert "is disabled" in response.content.decode()
    assert not Delivery.objects.filter(key__startswith="test-push:").exists()
