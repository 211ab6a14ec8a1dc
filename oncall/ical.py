"""iCal (RFC 5545): shifts out as a calendar, a read-only feed in.

Export: one VEVENT per shift, in UTC, with a UID made of the schedule, the
person and the start, so a calendar client updates an event instead of
duplicating it. Feed: the events between two moments, recurrences (RRULE,
RDATE, EXDATE, changed occurrences) expanded by `recurring-ical-events`; each
event names its person by an ATTENDEE's e-mail or in its SUMMARY (a username or
an e-mail, alone or among other words, as PagerDuty's and Grafana OnCall's
feeds write it).
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from cxhub import outbound
from oncall.final import Interval

PRODID = "-//cxhub//on call//EN"
_WORDS = re.compile(r"[^\s,;:()\[\]<>\"']+")
# Redirects followed by a feed fetch, each target checked like the first.
MAX_REDIRECTS = 3


class FeedError(Exception):
    """The feed could not be read or understood; the message says why."""


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    summary: str
    start: datetime
    end: datetime


def export(name: str, found: list[CalendarEvent]) -> bytes:
    """Return an RFC 5545 calendar named `name` with one VEVENT per event, in UTC."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    # How often a subscribed client should read the link again (RFC 7986; Outlook's name).
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamp = timezone.now().astimezone(UTC)
    for item in found:
        event = icalendar.Event()
        event.add("uid", f"{item.uid}@cxhub")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.start.astimezone(UTC))
        event.add("dtend", item.end.astimezone(UTC))
        event.add("summary", item.summary)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()


def fetch(url: str) -> str:
    """Return the text at an http(s) URL that passes the outbound guard, or raise FeedError."""
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            outbound.check_url(url)
        except outbound.OutboundRefused as refused:
            raise FeedError(str(refused)) from None
        try:
            response = requests.get(
                url,
                timeout=settings.CXHUB_HTTP_TIMEOUT,
                allow_redirects=False,
                stream=True,
                headers={"Accept": "text/calendar"},
            )
        except requests.RequestException as exc:
            raise FeedError(f"The feed is unreachable: {exc.__class__.__name__}.") from None
        with response:
            if response.is_redirect and response.headers.get("Location"):
                url = requests.compat.urljoin(url, response.headers["Location"])
                continue
            if response.status_code != 200:
                raise FeedError(f"The feed answered HTTP {response.status_code}.")
            limit = settings.CXHUB_ONCALL_FEED_MAX_BYTES
            body = b""
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > limit:
                    raise FeedError(f"The feed is larger than {limit} bytes.")
        return body.decode(response.encoding or "utf-8", errors="replace")
    raise FeedError(f"The feed redirects more than {MAX_REDIRECTS} times.")


def _moment(value, zone: ZoneInfo) -> datetime:
    # An all-day event (a DATE) starts at midnight of the schedule's zone; a floating
    # time (no zone) is read in the schedule's zone too.
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def events(ics: str, time_zone: str, start: datetime, end: datetime) -> list[dict]:
    """Return the events in [start, end): {"start", "end", "summary", "emails"}, or raise."""
    zone = ZoneInfo(time_zone)
    try:
        calendar = icalendar.Calendar.from_ical(ics)
        occurrences = recurring_ical_events.of(calendar).between(start, end)
    except Exception as exc:  # the parsers raise many kinds for a malformed calendar
        raise FeedError(f"The feed is not a valid iCal calendar: {exc}") from None
    found = []
    for event in occurrences:
        if "DTSTART" not in event:
            continue
        opens = event.decoded("DTSTART")
        begin = _moment(opens, zone)
        if "DTEND" in event:
            finish = _moment(event.decoded("DTEND"), zone)
        elif "DURATION" in event:
            finish = begin + event.decoded("DURATION")
        elif not isinstance(opens, datetime):
            finish = _moment(opens + timedelta(days=1), zone)  # an all-day event
        else:
            continue  # an instant: nobody is on call for no time
        attendees = event.get("ATTENDEE") or []
        if not isinstance(attendees, list):
            attendees = [attendees]
        emails = [
            str(a)[7:].strip().lower() for a in attendees if str(a).lower().startswith("mailto:")
        ]
        found.append(
            {
                "start": begin,
                "end": finish,
                "summary": str(event.get("SUMMARY", "")).strip(),
                "emails": emails,
            }
        )
    return found


def people_named(found: list[dict]) -> dict[str, int]:
    """Return {lowercased username or e-mail: user id} for every name the events could mean."""
    words = set()
    for event in found:
        words.update(event["emails"])
        words.update(w.lower() for w in _WORDS.findall(event["summary"]))
        words.add(event["summary"].lower())
    words.discard("")
    if not words:
        return {}
    users = get_user_model().objects.filter(is_active=True)
    by_name = {}
    for chunk_start in range(0, len(words), 500):
        chunk = sorted(words)[chunk_start : chunk_start + 500]
        query = Q(username__in=chunk) | Q(email__in=chunk)
        for user_id, username, email in users.filter(query).values_list("id", "username", "email"):
            by_name.setdefault(username.lower(), user_id)
            if email:
                by_name.setdefault(email.lower(), user_id)
    return by_name


def _person(event: dict, by_name: dict[str, int]) -> int | None:
    for email in event["emails"]:
        if email in by_name:
            return by_name[email]
    summary = event["summary"].lower()
    if summary in by_name:
        return by_name[summary]
    for word in _WORDS.findall(summary):
        if word in by_name:
            return by_name[word]
    return None


def feed_intervals(
    ics: str, time_zone: str, start: datetime, end: datetime
) -> tuple[list[Interval], list[str]]:
    """Return the feed's shifts in [start, end) as intervals, and the summaries naming nobody."""
    found = events(ics, time_zone, start, end)
    by_name = people_named(found)
    intervals, unknown = [], []
    for event in found:
        user = _person(event, by_name)
        if user is None:
            if event["summary"] not in unknown:
                unknown.append(event["summary"])
            continue
        if event["end"] > event["start"]:
            intervals.append(Interval(user, event["start"], event["end"], "feed"))
    return intervals, unknown
