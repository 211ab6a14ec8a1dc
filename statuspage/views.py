"""The public status page: services, uptime bars, maintenance ahead and incidents, no login."""

from datetime import timedelta

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
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


def page_html(language: str) -> bytes:
    """Render the status page in `language` from the database, now."""
    now = timezone.now()
    days = settings.CXHUB_STATUS_PAGE_DAYS
    incidents = page_incidents(now=now, days=days)
    for incident in incidents:
        incident["duration_text"] = (
            duration_text(incident["duration"]) if incident["duration"] else ""
        )
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
        updates = updates_by_incident([i["id"] for i in incidents], language)
        for incident in incidents:
            incident["updates"] = updates.get(incident["id"], [])
        return render_to_string(
            "statuspage/status.html",
            {
                "services": services,
                "disrupted": any(s["disrupted"] for s in services),
                "maintenance": any(s["maintenance_until"] for s in services),
                "ahead": ahead[:20],
                "incidents": incidents,
                "days": days,
                "generated_at": now,
                "language": language,
                "languages": settings.LANGUAGES,
                "subscribe_services": [s for s in services if s.get("pk")],
                "zones": zone_choices(),
                "bank_zone": settings.TIME_ZONE,
            },
        ).encode()


@require_safe
def status_page(request):
    """Show the status page in the language asked (?lang=en), else the browser's."""
    asked = request.GET.get("lang", "")
    codes = {code for code, _name in settings.LANGUAGES}
    language = asked if asked in codes else translation.get_language()
    if language not in codes:
        language = settings.LANGUAGE_CODE
    response = HttpResponse(pages.get(language, lambda: page_html(language)))
    response["Cache-Control"] = f"public, max-age={int(settings.CXHUB_STATUS_CACHE_SECONDS)}"
    response["Content-Language"] = language
    if not asked:
        response["Vary"] = "Accept-Language, Cookie"
    return response
