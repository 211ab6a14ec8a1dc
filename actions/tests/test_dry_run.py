from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident, Integration, Report, TimelineEvent, Trigger
from notifications.models import Customer, Delivery, Device


def record(at, *pairs):
    """Record one past request with its triggers, as ingest would have, unprocessed."""
    integration, _ = Integration.objects.get_or_create(name="m", defaults={"token_hash": "h"})
    report = Report.objects.create(
        integration=integration, received_at=at, payload={}, processed_at=at
    )
    for service, code in pairs:
        Trigger.objects.create(
            report=report, service=service, code=code, received_at=at, matched=True
        )


def test_dry_run_replays_recorded_triggers_without_writing(scenario, admin_client):
    action = scenario["action"]
    start = timezone.now() - timedelta(days=2)
    for i in range(12):  # a burst: 12 requests of login 503 + 404, one occurrence each
        record(start + timedelta(seconds=10 * i), ("login", "503"), ("login", "404"))
    record(start + timedelta(minutes=1), ("login", "500"))  # not covered by 0001
    record(start + timedelta(hours=5), ("login", "503"))  # a later, separate episode
    record(timezone.now() - timedelta(days=9), ("login", "503"))  # before the period
    before = [m.objects.count() for m in (Incident, Delivery, TimelineEvent, Report, Trigger)]

    url = reverse("admin:actions_action_dry_run", args=[action.pk])
    response = admin_client.get(url, {"days": 7, "quiet_minutes": 30})

    assert response.status_code == 200
    first, second = response.context["incidents"]
    assert response.context["occurrences"] == 13
    assert first.occurrences == 12
    assert first.push_at == start + timedelta(seconds=40)
    # N1 at 10 occurrences, then N2 at 20 minutes (with no occurrence: a time tier).
    assert [(p.level, p.at) for p in first.pages] == [
        (1, start + timedelta(seconds=90)),
        (2, start + timedelta(minutes=20)),
    ]
    assert second.occurrences == 1 and second.push_at is None
    assert [p.level for p in second.pages] == [1, 2]  # by time, before its quiet end
    assert response.context["audience"] == 3
    html = response.content.decode()
    assert "13 occurrence(s) → 2 incidents, 1 push(es), 4 page(s)" in html
    after = [m.objects.count() for m in (Incident, Delivery, TimelineEvent, Report, Trigger)]
    assert after == before


def test_dry_run_names_a_bad_period(scenario, admin_client):
    url = reverse("admin:actions_action_dry_run", args=[scenario["action"].pk])
    response = admin_client.get(url, {"days": 0, "quiet_minutes": 30})
    assert response.status_code == 200
    assert "days" in response.context["form"].errors
    assert "incidents" not in response.context


def test_action_pages_link_to_the_dry_run(scenario, admin_client):
    url = reverse("admin:actions_action_dry_run", args=[scenario["action"].pk])
    change = reverse("admin:actions_action_change", args=[scenario["action"].pk])
    assert url in admin_client.get(change).content.decode()
    assert url in admin_client.get(reverse("admin:actions_action_changelist")).content.decode()


def test_dry_run_counts_the_devices_a_push_would_reach(scenario, admin_client):
    action = scenario["action"]
    opted_out = Customer.objects.create(external_id="c4", opt_out_outage=True)
    opted_out.services.set([scenario["login"]])
    Device.objects.create(customer=opted_out, platform="android", token="tok-c4")
    url = reverse("admin:actions_action_dry_run", args=[action.pk])

    response = admin_client.get(url, {"days": 7, "quiet_minutes": 30})
    assert response.context["audience"] == 3  # c1's two devices and c2's: not c4's

    Device.objects.filter(token="tok-c2").update(platform="ios")
    action.audience_platforms = ["ios"]
    action.save()
    response = admin_client.get(url, {"days": 7, "quiet_minutes": 30})
    assert response.context["audience"] == 1
