"""Filters of the support pages: one time zone with its offset, durations, reach."""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

from cxhub.timefmt import offset_label
from incidents.history.texts import event_text as _event_text

register = template.Library()


@register.filter
def when(value: datetime | None, fmt: str = "Y-m-d H:i") -> str:
    """Render a moment in the current time zone, followed by its offset."""
    if value is None:
        return "–"
    local = timezone.localtime(value)
    return f"{date_format(local, fmt)} {offset_label(local)}"


@register.filter
def duration(value: timedelta | None) -> str:
    """Render a duration as 2 d 3 h, 1 h 05 min, 4 min 10 s or 35 s."""
    if value is None:
        return "–"
    seconds = max(int(value.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)02d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)s min %(s)02d s") % {"m": minutes, "s": secs}
    return _("%(s)s s") % {"s": secs}


@register.filter
def event_text(event) -> str:
    """Render a timeline event's detail in the active language."""
    return _event_text(event)


@register.filter
def person(username: str, names: dict | None) -> str:
    """Return the full name of `username` from `names` ({username: full name}), else it."""
    return (names or {}).get(username) or username


@register.filter
def open_now(user):
    """What is open now for the admin home (support.overview), as far as the user may see."""
    from support.overview import open_now as overview

    return overview(user)
