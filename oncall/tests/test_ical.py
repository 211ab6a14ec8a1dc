"""iCal: the exports a calendar client subscribes to, and schedules fed by a local .ics server."""

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import icalendar
import pytest
from django.test import Client

from oncall import selectors, services
from oncall.models import Schedule, Shift
from oncall.tests.conftest import MONDAY, daily_schedule

HOUR = timedelta(hours=1)

# Ana every day 08:00-20:00 Berlin time, except Wednesday June 3rd (EXDATE); Bruno by
# e-mail in his ATTENDEE, nights on weekdays; someone nobody knows on Sunday.
FEED = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//feed//EN
BEGIN:VEVENT
UID:day@test
DTSTAMP:20260501T000000Z
DTSTART;TZID=Europe/Berlin:20260601T080000
DTEND;TZID=Europe/Berlin:20260601T200000
RRULE:FREQ=DAILY
EXDATE;TZID=Europe/Berlin:20260603T080000
SUMMARY:On call: ana
END:VEVENT
BEGIN:VEVENT
UID:night@test
DTSTAMP:20260501T000000Z
DTSTART;TZID=Europe/Berlin:20260601T200000
DTEND;TZID=Europe/Berlin:20260602T080000
RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR
SUMMARY:Night shift
ATTENDEE;CN=Bruno:mailto:BRUNO@bank.test
END:VEVENT
BEGIN:VEVENT
UID:sunday@test
DTSTAMP:20260501T000000Z
DTSTART;VALUE=DATE:20260607
DTEND;VALUE=DATE:20260608
SUMMARY:Zed Nobody
END:VEVENT
END:VCALENDAR
"""


class IcsServer:
    """Serve one calendar on 127.0.0.1; `status` and `body` can change between requests."""

    def __init__(self, body: str):
        self.body = body.replace("\n", "\r\n").encode()
        self.status = 200
        self.hits = 0
        self.bodies = {}  # other paths' calendars
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits += 1
                if self.path == "/moved.ics":
                    self.send_response(302)
                    self.send_header("Location", "/feed.ics")
                    self.end_headers()
                    return
                body = server.bodies.get(self.path, server.body)
                self.send_response(server.status)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/feed.ics"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ics_server():
    server = IcsServer(FEED)
    yield server
    server.close()


def berlin_utc(day, hour, minute=0):
    # June: Berlin is UTC+2.
    return datetime(2026, 6, day, hour - 2, minute, tzinfo=UTC)


def test_a_schedule_fed_by_ical_follows_its_rrule_and_exdate(people, ics_server):
    schedule = Schedule.objects.create(
        name="Feed", time_zone="Europe/Berlin", ical_url=ics_server.url
    )
    error = services.schedule_feed_refresh(schedule.pk)
    schedule.refresh_from_db()
    assert "Zed Nobody" in error and schedule.feed_error == error
    assert schedule.feed_checked_at == MONDAY
    at = selectors.oncall_at
    assert [u.username for u in at(schedule, berlin_utc(1, 12))] == ["ana"]
    assert [u.username for u in at(schedule, berlin_utc(1, 23))] == ["bruno"]
    assert [u.username for u in at(schedule, berlin_utc(3, 12))] == []  # EXDATE
    assert [u.username for u in at(schedule, berlin_utc(4, 12))] == ["ana"]
    assert Shift.objects.filter(schedule=schedule, source="feed").exists()


def test_a_failing_feed_keeps_its_last_shifts_and_says_why(people, ics_server):
    schedule = Schedule.objects.create(
        name="Feed", time_zone="Europe/Berlin", ical_url=ics_server.url
    )
    services.schedule_feed_refresh(schedule.pk)
    ics_server.status = 500
    error = services.schedule_feed_refresh(schedule.pk)
    schedule.refresh_from_db()
    assert schedule.feed_ics  # the last good calendar
    assert error == "The feed answered HTTP 500." == schedule.feed_error
    assert [u.username for u in selectors.oncall_at(schedule, berlin_utc(1, 12))] == ["ana"]
    ics_server.status = 200
    ics_server.body = b"this is not a calendar"
    assert "not a valid iCal" in services.schedule_feed_refresh(schedule.pk)


# Bruno covers Ana's Tuesday afternoon, Carla's Thursday noon (Berlin time).
OVERRIDES = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//overrides//EN
BEGIN:VEVENT
UID:swap-1@test
DTSTAMP:20260501T000000Z
DTSTART;TZID=Europe/Berlin:20260602T140000
DTEND;TZID=Europe/Berlin:20260602T180000
SUMMARY:bruno
END:VEVENT
BEGIN:VEVENT
UID:swap-2@test
DTSTAMP:20260501T000000Z
DTSTART:20260604T100000Z
DTEND:20260604T110000Z
SUMMARY:Override
ATTENDEE:mailto:carla@bank.test
END:VEVENT
END:VCALENDAR
"""


def test_an_overrides_calendar_wins_over_the_feed_and_loses_to_cxhub_overrides(people, ics_server):
    ics_server.bodies["/overrides.ics"] = OVERRIDES.replace("\n", "\r\n").encode()
    schedule = Schedule.objects.create(
        name="Feed",
        time_zone="Europe/Berlin",
        ical_url=ics_server.url,
        ical_overrides_url=ics_server.url.replace("feed.ics", "overrides.ics"),
    )
    services.schedule_feed_refresh(schedule.pk)
    schedule.refresh_from_db()
    at = selectors.oncall_at

    assert [u.username for u in at(schedule, berlin_utc(2, 12))] == ["ana"]
    assert [u.username for u in at(schedule, berlin_utc(2, 15))] == ["bruno"]
    assert [u.username for u in at(schedule, berlin_utc(4, 12, 30))] == ["carla"]
    services.override_create(
        schedule=schedule,
        user=people["ana"],
        start=berlin_utc(2, 16),
        end=berlin_utc(2, 17),
    )
    assert [u.username for u in at(schedule, berlin_utc(2, 16, 30))] == ["ana"]
    # A failing overrides feed keeps its last calendar and says which feed failed.
    ics_server.bodies["/overrides.ics"] = b"broken"
    error = services.schedule_feed_refresh(schedule.pk)
    schedule.refresh_from_db()
    assert "Overrides feed: The feed is not a valid iCal calendar" in error
    assert schedule.feed_error == error
    assert [u.username for u in at(schedule, berlin_utc(2, 15))] == ["bruno"]


def test_a_feed_redirect_is_followed_and_an_internal_address_refused(people, ics_server, settings):
    moved = ics_server.url.replace("feed.ics", "moved.ics")
    schedule = Schedule.objects.create(name="Feed", time_zone="Europe/Berlin", ical_url=moved)
    services.schedule_feed_refresh(schedule.pk)
    schedule.refresh_from_db()
    assert [u.username for u in selectors.oncall_at(schedule, berlin_utc(1, 12))] == ["ana"]
    settings.CXHUB_OUTBOUND_ALLOW = []
    assert "internal address" in services.schedule_feed_refresh(schedule.pk)


def test_the_beat_task_reads_feeds_and_moves_every_horizon(people, schedule, ics_server, clock):
    Schedule.objects.create(name="Feed", time_zone="Europe/Berlin", ical_url=ics_server.url)
    from oncall.tasks import schedules_refresh

    schedules_refresh()
    assert ics_server.hits == 1
    clock.shift(timedelta(days=3))
    schedules_refresh()
    assert Schedule.objects.get(pk=schedule.pk).shifts_until == MONDAY + timedelta(days=59)
    assert Shift.objects.filter(schedule=schedule, end__lte=MONDAY + timedelta(days=3)).count() == 3
    clock.shift(timedelta(days=400))
    schedules_refresh()  # history older than 400 days is pruned
    assert not Shift.objects.filter(schedule=schedule, end__lt=MONDAY + timedelta(days=3)).exists()


def events_of(body: bytes):
    calendar = icalendar.Calendar.from_ical(body)
    return [
        (str(e["SUMMARY"]), e.decoded("DTSTART"), e.decoded("DTEND"))
        for e in calendar.walk("VEVENT")
    ]


def test_a_schedule_calendar_exports_its_final_shifts_until_revoked(schedule, people):
    services.schedule_shifts_refresh(schedule.pk)
    token = services.calendar_link_rotate(schedule=schedule)
    response = Client().get(f"/oncall/calendar/{token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    found = events_of(response.content)
    assert found[0] == ("ana · N1", MONDAY, MONDAY + timedelta(days=1))
    assert found[1][0] == "bruno · N1"
    assert len(found) == 56
    services.calendar_link_rotate(schedule=schedule)
    assert Client().get(f"/oncall/calendar/{token}.ics").status_code == 404


def test_a_person_calendar_lists_their_shifts_only(schedule, people):
    services.schedule_shifts_refresh(schedule.pk)
    token = services.calendar_link_rotate(user=people["bruno"])
    found = events_of(Client().get(f"/oncall/calendar/{token}.ics").content)
    assert len(found) == 28
    assert found[0] == ("On call: N1", MONDAY + timedelta(days=1), MONDAY + timedelta(days=2))


def test_an_export_keeps_rfc_5545s_line_rules_with_long_non_ascii_names(people):
    ana = people["ana"]
    ana.first_name, ana.last_name = "Ana Conceição", "Guimarães de Araújo Magalhães"
    ana.save()
    name = "Plantão de Atendimento ao Cliente — Coordenação Nacional"
    schedule = daily_schedule(people, name=name)
    services.schedule_shifts_refresh(schedule.pk)
    token = services.calendar_link_rotate(schedule=schedule)

    body = Client().get(f"/oncall/calendar/{token}.ics").content

    lines = body.split(b"\r\n")
    assert body.count(b"\n") == body.count(b"\r\n")  # CRLF only
    assert max(len(line) for line in lines) <= 75  # octets, folded
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines
    calendar = icalendar.Calendar.from_ical(body)
    found = calendar.walk("VEVENT")
    assert str(found[0]["SUMMARY"]).startswith("Ana Conceição Guimarães de Araújo Magalhães · ")
    uids = [str(event["UID"]) for event in found]
    assert len(set(uids)) == len(uids)
    for event in found:
        assert event.decoded("DTSTART").utcoffset() == timedelta(0)
        assert "DTSTAMP" in event and "DTEND" in event
