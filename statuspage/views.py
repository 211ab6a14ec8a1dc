"""The public status page: services, uptime bars, maintenance ahead and incidents, no login."""

import zoneinfo
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.http import require_safe

from cxhub.hotcache import TtlCache
from statuspage.forms import zone_choices
from statuspage.selectors import (
    page_incidents,
    page_maintenance,
    page_services,
    services_history,
)
from statuspage.updates import updates_by_incident

pages = TtlCache(max_entries=16, ttl_setting="CXHUB_STATUS_CACHE_SECONDS")
PAGE_INCIDENTS = 20  # on the page; the rest on the history's pages of as many
DAY_INCIDENTS = 5  # in a bar's tip; "and N more" links to the history at that day


def duration_text(duration) -> str:
    """Return a duration as "2 h 05 min" or "12 min" (under a minute counts as one)."""
    minutes = max(1, round(duration.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def maintenance_ahead(windows, *, now, repeats: int = 4) -> list[dict]:
    """Return the windows not started, a recurring one once with its next starts as `also`."""
    found, by_recurrence = [], {}
    for window in windows:
        if window.starts_at <= now:
            continue
        first = by_recurrence.get(window.recurrence_id)
        if first is not None:
            if len(first["also"]) < repeats:
                first["also"].append(window.starts_at)
            continue
        row = {"window": window, "also": []}
        found.append(row)
        if window.recurrence_id:
            by_recurrence[window.recurrence_id] = row
    return found


def _incidents_page(language: str, *, now, days: int, before=None) -> dict:
    """Return {"incidents", "more"}: PAGE_INCIDENTS incidents opened before `before`, newest
    first, with their duration text and written updates in `language` (call it with the
    language active); "more" is the keyset of the next page, None on the last.
    """
    incidents = page_incidents(now=now, days=days, limit=PAGE_INCIDENTS + 1, before=before)
    more = len(incidents) > PAGE_INCIDENTS
    incidents = incidents[:PAGE_INCIDENTS]
    updates = updates_by_incident([i["id"] for i in incidents], language)
    for incident in incidents:
        incident["duration_text"] = (
            duration_text(incident["duration"]) if incident["duration"] else ""
        )
        incident["updates"] = updates.get(incident["id"], [])
    return {"incidents": incidents, "more": incidents[-1]["start"] if more else None}


def page_html(language: str) -> bytes:
    """Render the status page in `language` from the database, now.

    The page lists the newest PAGE_INCIDENTS incidents of the period with a link
    to the history for the rest; the bars carry each day's uptime and its first
    DAY_INCIDENTS incidents: what it renders does not grow with the history.
    """
    now = timezone.now()
    days = settings.CXHUB_STATUS_PAGE_DAYS
    services = page_services(now=now)
    history = {row["id"]: row for row in services_history(now=now, days=days)}
    for service in services:
        service["history"] = history.get(service["id"])
    ahead = maintenance_ahead(
        page_maintenance(
            start=now, end=now + timedelta(days=settings.CXHUB_MAINTENANCE_HORIZON_DAYS)
        ),
        now=now,
    )
    with translation.override(language):
        return render_to_string(
            "statuspage/status.html",
            {
                **_incidents_page(language, now=now, days=days),
                "services": services,
                "disrupted": any(s["disrupted"] for s in services),
                "maintenance": any(s["maintenance_until"] for s in services),
                "ahead": ahead[:20],
                "day_incidents": DAY_INCIDENTS,
                "day_incidents_slice": f":{DAY_INCIDENTS}",
                "day_incidents_less": -DAY_INCIDENTS,
                "days": days,
                "generated_at": now,
                "language": language,
                "languages": settings.LANGUAGES,
                "subscribe_services": [s for s in services if s.get("pk")],
                "zones": zone_choices(),
                "bank_zone": settings.TIME_ZONE,
            },
        ).encode()


def _language_of(asked: str) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    language = asked if asked in codes else translation.get_language()
    return language if language in codes else settings.LANGUAGE_CODE


def _history_before(request, *, now):
    """Return the keyset bound asked: ?before=<ISO time> or ?day=<date> (its end), else now."""
    if at := parse_datetime(request.GET.get("before", "") or ""):
        return at if timezone.is_aware(at) else timezone.make_aware(at, UTC)
    if day := parse_date(request.GET.get("day", "") or ""):
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        return datetime.combine(day + timedelta(days=1), time(), zone)
    return now


@require_safe
def status_history(request):
    """Show the incidents of the page's period, PAGE_INCIDENTS a page, newest first (keyset)."""
    language = _language_of(request.GET.get("lang", ""))
    now = timezone.now()
    days = settings.CXHUB_STATUS_PAGE_DAYS
    try:
        before = _history_before(request, now=now)
    except ValueError:
        before = now
    with translation.override(language):
        response = HttpResponse(
            render_to_string(
                "statuspage/history.html",
                {
                    **_incidents_page(language, now=now, days=days, before=before),
                    "days": days,
                    "language": language,
                },
            )
        )
    response["Cache-Control"] = f"public, max-age={int(settings.CXHUB_STATUS_CACHE_SECONDS)}"
    response["Content-Language"] = language
    return response


@require_safe
def status_page(request):
    """Show the status page in the language asked (?lang=en), else the browser's."""
    asked = request.GET.get("lang", "")
    language = _language_of(asked)
    response = HttpResponse(pages.get(language, lambda: page_html(language)))
    response["Cache-Control"] = f"public, max-age={int(settings.CXHUB_STATUS_CACHE_SECONDS)}"
    response["Content-Language"] = language
    if not asked:
        response["Vary"] = "Accept-Language, Cookie"
    return response
