"""Written updates: Support and CX staff tell customers what is going on, in pt-BR and en.

An update is shown on the page and in the feed at once and becomes a notice to
the subscribers of the incident's services (held for a second person above the
approval threshold, like a mass push).
"""

from django.db import transaction
from django.utils import timezone, translation

from incidents.lifecycle.approvals import approval_threshold
from incidents.models import Incident
from statuspage.models import Language, Notice, Stage, StatusUpdate
from statuspage.notices import incident_service_ids, notice_create

# Who may post: the permission Support and CX staff hold (support/roles.py).
POST_UPDATE = "statuspage.add_statusupdate"
MAX_LENGTH = 2000


class UpdateRefused(Exception):
    """The update cannot be posted; the message says why."""


def update_post(
    incident: Incident, *, stage: str, text_pt: str, text_en: str, by: str, now=None
) -> tuple[StatusUpdate, Notice | None]:
    """Post a written update on an incident and create its notice to subscribers.

    Returns the update and its notice (None when no customer-facing service is
    covered, so nobody is to be told).
    """
    now = now or timezone.now()
    text_pt, text_en = text_pt.strip()[:MAX_LENGTH], text_en.strip()[:MAX_LENGTH]
    if stage not in Stage.values:
        raise UpdateRefused(f"Unknown stage {stage!r}.")
    if not text_pt or not text_en:
        raise UpdateRefused("Write the update in both languages.")
    service_ids = incident_service_ids(incident)
    with transaction.atomic():
        update = StatusUpdate.objects.create(
            incident=incident,
            stage=stage,
            text_pt=text_pt,
            text_en=text_en,
            posted_by=by,
            posted_at=now,
        )
        notice = None
        if service_ids:
            stages = {}
            for language in Language.values:
                with translation.override(language):
                    stages[language] = str(Stage(stage).label)
            notice = notice_create(
                Notice.Kind.INCIDENT_UPDATE,
                key=f"update:{update.pk}",
                service_ids=service_ids,
                context={
                    "stages": stages,
                    "text": {Language.PT_BR: text_pt, Language.EN: text_en},
                },
                threshold=approval_threshold(incident),
                now=now,
                requested_by=by,
                incident=incident,
                update=update,
            )
    return update, notice


def updates_by_incident(incident_ids, language: str) -> dict:
    """Return the written updates of these incidents, newest first, in `language`, by incident."""
    updates = {}
    for update in StatusUpdate.objects.filter(incident_id__in=incident_ids).order_by("-posted_at"):
        updates.setdefault(update.incident_id, []).append(
            {
                "stage": update.get_stage_display(),
                "at": update.posted_at,
                "text": update.text(language),
            }
        )
    return updates
