"""The words of a notice, in each language a subscriber may choose (gettext, locale/)."""

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext, ngettext

from actions.models import Service
from statuspage.models import Language, Notice

Kind = Notice.Kind


TIMES = ("since", "at", "start", "end")


def zone_valid(name: str) -> bool:
    """Return whether `name` is an IANA time zone (America/Sao_Paulo)."""
    return name in available_timezones()


def when(at, zone: str = "") -> str:
    """Format a time as the active language writes it, in `zone` (the bank's) with its offset.

    03/12/2026 08:12 UTC-0300 (cxhub/formats): a reader in another zone, or a
    forwarded mail, still knows the moment.
    """
    local = at.astimezone(ZoneInfo(zone or settings.TIME_ZONE))
    return formats.date_format(local, "SHORT_DATETIME_FORMAT")


def localized_names(service_ids, language: str) -> dict[int, str]:
    """Return {service id: customer-facing name in `language`} (its own name by default)."""
    found = {}
    for service in Service.objects.filter(pk__in=set(service_ids)).prefetch_related("names"):
        localized = {n.locale.lower(): n.name for n in service.names.all()}
        found[service.pk] = (
            localized.get(language) or localized.get(language.split("-")[0]) or service.name
        )
    return found


def service_names(service_ids, language: str) -> list[str]:
    """Return the customer-facing names of services in `language`, sorted."""
    return sorted(localized_names(service_ids, language).values())


def _subject_and_body(kind: str, context: dict) -> tuple[str, str]:
    services = ", ".join(context["services"])
    many = len(context["services"])
    if kind == Kind.INCIDENT_VISIBLE:
        return (
            gettext("%(services)s unavailable") % {"services": services},
            ngettext(
                "%(services)s is unavailable since %(since)s. We are working on it and will "
                "let you know when it is back.",
                "%(services)s are unavailable since %(since)s. We are working on it and will "
                "let you know when they are back.",
                many,
            )
            % {"services": services, "since": when(context["since"], context["zone"])},
        )
    if kind == Kind.INCIDENT_REOPENED:
        return (
            gettext("%(services)s unavailable again") % {"services": services},
            ngettext(
                "%(services)s is unavailable again since %(since)s. We are working on it and "
                "will let you know when it is back.",
                "%(services)s are unavailable again since %(since)s. We are working on it and "
                "will let you know when they are back.",
                many,
            )
            % {"services": services, "since": when(context["since"], context["zone"])},
        )
    if kind == Kind.INCIDENT_UPDATE:
        return (
            gettext("%(stage)s: %(services)s") % {"stage": context["stage"], "services": services},
            context["text"],
        )
    if kind == Kind.INCIDENT_RESOLVED:
        return (
            gettext("%(services)s working again") % {"services": services},
            ngettext(
                "%(services)s is working normally again since %(at)s.",
                "%(services)s are working normally again since %(at)s.",
                many,
            )
            % {"services": services, "at": when(context["at"], context["zone"])},
        )
    window = {
        "services": services,
        "start": when(context["start"], context["zone"]),
        "end": when(context["end"], context["zone"]),
    }
    if kind == Kind.MAINTENANCE_ANNOUNCED:
        return (
            gettext("Scheduled maintenance: %(services)s") % window,
            gettext(
                "Scheduled maintenance: %(services)s may be unavailable from %(start)s to %(end)s."
            )
            % window,
        )
    if kind == Kind.MAINTENANCE_REMINDER:
        return (
            gettext("Maintenance starts soon: %(services)s") % window,
            gettext(
                "Reminder: %(services)s may be unavailable from %(start)s to %(end)s "
                "for scheduled maintenance."
            )
            % window,
        )
    if kind == Kind.MAINTENANCE_STARTED:
        return (
            gettext("Maintenance under way: %(services)s") % window,
            gettext(
                "Scheduled maintenance has started: %(services)s may be unavailable until %(end)s."
            )
            % window,
        )
    return (
        gettext("Maintenance over: %(services)s") % window,
        gettext("Scheduled maintenance is over: %(services)s is available again.") % window,
    )


def notice_context(**context) -> dict:
    """Return a notice's context as JSON can store it (times as ISO 8601)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in context.items()}


def notice_texts(kind: str, *, service_ids, zone: str = "", languages=None, **context) -> dict:
    """Render a notice's subject and body per language: {language: {subject, body}}.

    `context` holds since / at (times, or their ISO text), stage and text per
    language ({"pt-br": ..., "en": ...}) for written updates, start / end for
    maintenance. Times are written in `zone`, the bank's by default.
    """
    texts = {}
    for language in languages or Language.values:
        with translation.override(language):
            values = dict(context, services=service_names(service_ids, language), zone=zone)
            for key in TIMES:
                if isinstance(values.get(key), str):
                    values[key] = datetime.fromisoformat(values[key])
            if kind == Kind.INCIDENT_UPDATE:
                values["stage"] = str(context["stages"][language])
                values["text"] = context["text"][language]
            subject, body = _subject_and_body(kind, values)
            page = f"{settings.CXHUB_BASE_URL}{reverse('statuspage:status')}?lang={language}"
            texts[language] = {
                "subject": subject,
                "body": f"{body}\n\n{gettext('Service status')}: {page}",
            }
    return texts


def footer(language: str, *, manage_url: str, unsubscribe_url: str) -> str:
    """Return the lines every notice e-mail ends with: why it came, and how to change or stop it."""
    with translation.override(language):
        return "\n\n-- \n" + gettext(
            "You receive this because you subscribed to the service status page. "
            "Choose services, language or time zone: %(manage)s\nUnsubscribe: %(link)s"
        ) % {"manage": manage_url, "link": unsubscribe_url}
