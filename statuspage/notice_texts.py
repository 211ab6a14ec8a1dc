"""The words of a notice, in each language a subscriber may choose (gettext, locale/)."""

from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, ngettext

from actions.models import Service
from statuspage.models import Language, Notice

Kind = Notice.Kind


def when(at) -> str:
    """Format a time as the active language writes it, in the server's time zone."""
    return formats.date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT")


def service_names(service_ids, language: str) -> list[str]:
    """Return the customer-facing names of services in `language` (its own name by default)."""
    names = []
    for service in Service.objects.filter(pk__in=service_ids).prefetch_related("names"):
        localized = {n.locale.lower(): n.name for n in service.names.all()}
        names.append(
            localized.get(language) or localized.get(language.split("-")[0]) or service.name
        )
    return sorted(names)


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
            % {"services": services, "since": when(context["since"])},
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
            % {"services": services, "at": when(context["at"])},
        )
    window = {"services": services, "start": when(context["start"]), "end": when(context["end"])}
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


def notice_texts(kind: str, *, service_ids, **context) -> dict:
    """Render a notice's subject and body in every language: {language: {subject, body}}.

    `context` holds since / at (times), stage and text per language
    ({"pt-br": ..., "en": ...}) for written updates, start / end for maintenance.
    """
    texts = {}
    for language in Language.values:
        with translation.override(language):
            values = dict(context, services=service_names(service_ids, language))
            if kind == Kind.INCIDENT_UPDATE:
                values["stage"] = str(context["stages"][language])
                values["text"] = context["text"][language]
            subject, body = _subject_and_body(kind, values)
            page = f"{context.get('base_url', '')}{reverse('statuspage:status')}?lang={language}"
            texts[language] = {
                "subject": subject,
                "body": f"{body}\n\n{gettext('Service status')}: {page}",
            }
    return texts


def footer(language: str, unsubscribe_url: str) -> str:
    """Return the lines every notice e-mail ends with: why it came, and how to stop it."""
    with translation.override(language):
        return "\n\n-- \n" + gettext(
            "You receive this because you subscribed to the service status page. "
            "Unsubscribe: %(link)s"
        ) % {"link": unsubscribe_url}
