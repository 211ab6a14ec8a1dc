"""Light pages: a storm's payloads are collapsed and paged, the full payload one click away."""

import datetime

import pytest
from django.utils import timezone

from conftest import make_scenario
from incidents.models import Incident, Integration, Report, Trigger

pytestmark = pytest.mark.django_db

BIG = {
    "alerts": [
        {"labels": {"job": "login", "n": str(i)}, "annotations": "x" * 200} for i in range(40)
    ]
}


@pytest.fixture
def stormy():
    """An incident counted from 60 reports of about 12 KB each."""
    scenario = make_scenario()
    integration = Integration.objects.create(name="am", token_hash="h")
    now = timezone.now()
    incident = Incident.objects.create(
        action=scenario["action"], occurrences=60, opened_at=now, last_occurrence_at=now, policy={}
    )
    for i in range(60):
        report = Report.objects.create(
            integration=integration,
            received_at=now + datetime.timedelta(seconds=i),
            payload={**BIG, "seq": i},
        )
        Trigger.objects.create(
            report=report,
            service="login",
            code="503",
            received_at=report.received_at,  # as report_ingest records them
            matched=True,
            incident=incident,
        )
    return incident


def test_incident_admin_shows_the_latest_payloads_collapsed(admin_client, stormy):
    page = admin_client.get(f"/admin/incidents/incident/{stormy.pk}/change/").content.decode()
    assert page.count("<details>") == 10
    assert len(page) < 200_000, len(page)  # 60 payloads inline were > 700 KB
    assert "Every payload of this incident" in page
    every = f"/admin/incidents/report/?triggers__incident__id__exact={stormy.pk}"
    assert every.replace("&", "&amp;") in page or every in page
    listing = admin_client.get(every)
    assert listing.status_code == 200
    assert "60 reports" in listing.content.decode()
    one = Report.objects.order_by("-received_at").first()
    assert f"/admin/incidents/report/{one.pk}/change/" in page


def test_incident_api_detail_leaves_big_payloads_to_the_reports_endpoint(admin_client, stormy):
    detail = admin_client.get(f"/api/v1/incidents/{stormy.pk}/")
    assert len(detail.content) < 30_000, len(detail.content)
    body = detail.json()
    assert len(body["reports"]) == 5
    assert all(r["payload"] is None and r["payload_truncated"] for r in body["reports"])
    url = body["reports_url"]
    page = admin_client.get(url, {"limit": 3}).json()
    assert page["count"] == 60
    assert len(page["results"]) == 3
    assert page["results"][0]["payload"]["alerts"] == BIG["alerts"]
    assert page["next"]


def test_reports_endpoint_needs_the_view_permission(client, stormy, django_user_model):
    user = django_user_model.objects.create_user("x", password="pw-long-enough", is_staff=True)
    client.force_login(user)
    assert client.get(f"/api/v1/incidents/{stormy.pk}/reports").status_code == 403


def test_incident_admin_shows_one_time_zone_with_its_offset(admin_client, stormy):
    from django.utils import timezone as tz

    local = tz.localtime(stormy.opened_at)
    page = admin_client.get(f"/admin/incidents/incident/{stormy.pk}/change/").content.decode()
    # The title, the opened-at field and the payload headers: the same local time.
    assert f"{local:%Y-%m-%d %H:%M} UTC-0300" in page
    assert page.count(f"{local:%Y-%m-%d %H:%M}") >= 3
    utc = stormy.opened_at.astimezone(datetime.UTC)
    assert f"{utc:%Y-%m-%d %H:%M}" not in page


def test_resolving_from_the_admin_says_how_many_devices_the_all_clear_reaches(
    scenario, admin_client
):
    from conftest import post_original
    from notifications.tests.helpers import send_pending

    post_original(5)
    send_pending("push")
    incident = Incident.objects.get()
    page = admin_client.post(
        "/admin/incidents/incident/", {"action": "resolve", "_selected_action": [incident.pk]}
    ).content.decode()
    assert "the all-clear goes to 3 devices of 2 customers" in page
    incident.refresh_from_db()
    assert incident.status == "open"
