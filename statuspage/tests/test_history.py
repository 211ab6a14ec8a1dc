"""Uptime history: the pure per-day arithmetic, then the page's bars and the JSON."""

from datetime import UTC, date, datetime, timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from incidents import services as incidents
from incidents.models import Incident
from notifications.tests.helpers import post
from statuspage.history import Span, uptime_days, uptime_overall

ZONE = "America/Sao_Paulo"  # UTC-3, no daylight saving since 2019
# Thursday 3 December 2026, 15:00 in Sao Paulo.
NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)


def at(day, hour, minute=0):
    """Return Sao Paulo wall-clock time on December `day` as UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC) + timedelta(hours=3)


def test_a_quiet_period_is_all_up():
    days = uptime_days([], days=90, now=NOW, time_zone=ZONE)
    assert len(days) == 90
    assert days[-1].day == date(2026, 12, 3) and days[0].day == date(2026, 9, 5)
    assert all(d.uptime == 100 and d.level == "up" for d in days)
    assert uptime_overall(days) == 100


def test_a_day_counts_the_local_calendar_day_and_merges_overlaps():
    spans = [
        Span(at(1, 6), at(1, 9)),  # three hours
        Span(at(1, 8), at(1, 12)),  # overlaps: six hours in all
        Span(at(2, 23), at(3, 1)),  # across midnight: one hour each side
    ]
    days = {d.day: d for d in uptime_days(spans, days=3, now=NOW, time_zone=ZONE)}
    assert days[date(2026, 12, 1)].uptime == 75.0 and days[date(2026, 12, 1)].level == "down"
    assert len(days[date(2026, 12, 1)].incidents) == 2
    assert days[date(2026, 12, 2)].down_seconds == 3600
    assert days[date(2026, 12, 2)].level == "major"  # 95.83 %
    # Today counts the 15 hours so far: one of them down.
    assert days[date(2026, 12, 3)].seconds == 15 * 3600
    assert days[date(2026, 12, 3)].uptime == round(100 * 14 / 15, 2)


def test_an_open_incident_is_down_until_now():
    days = uptime_days([Span(at(3, 14), None)], days=2, now=NOW, time_zone=ZONE)
    assert days[-1].down_seconds == 3600 and days[-1].incidents[0].end is None
    assert days[0].uptime == 100
    overall = uptime_overall(days)
    assert overall == round(100 * (1 - 3600 / (86400 + 15 * 3600)), 3)


def test_the_history_json_counts_customer_visible_incidents_only(visible, integration):
    client = APIClient()
    post(integration, times=4)  # never customer-visible
    early = Incident.objects.get()
    incidents.incident_resolve(incident_id=early.pk, by="test")
    incident = post(integration, times=5)
    Incident.objects.filter(pk=incident.pk).update(
        opened_at=timezone.now() - timedelta(days=1, minutes=30)
    )
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    response = client.get("/api/v1/status/history")
    assert response.status_code == 200 and response["ETag"]
    body = response.json()
    assert body["days"] == 90 and body["timeZone"] == "America/Sao_Paulo"
    [login] = body["services"]
    assert login["service"] == "login" and login["name"] == "Login no app"
    assert len(login["days"]) == 90
    with_incidents = [d for d in login["days"] if d["incidents"]]
    assert 1 <= len(with_incidents) <= 2  # across local midnight or not
    assert all(len(d["incidents"]) == 1 for d in with_incidents)
    assert sum(100 - d["uptime"] for d in login["days"]) > 0
    assert login["uptime"] < 100
    again = client.get("/api/v1/status/history", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
