"""Triggers no action covers: page the triage team, and count them once an action does."""

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from actions.selectors import actions_matching
from incidents import selectors
from incidents.counting import Entry, occurrences_count
from incidents.models import TriageAlert, Trigger
from incidents.paging import page_triage


def triage_record(*, service: str, code: str, count: int, now) -> bool:
    """Count an uncovered service/code and page triage at most once an interval."""
    alert, _ = TriageAlert.objects.get_or_create(
        service=service, code=code, defaults={"first_seen_at": now, "last_seen_at": now}
    )
    TriageAlert.objects.filter(pk=alert.pk).update(
        occurrences=F("occurrences") + count, last_seen_at=now
    )
    quiet_since = now - settings.CXHUB_TRIAGE_INTERVAL
    claimed = (
        TriageAlert.objects.filter(pk=alert.pk)
        .filter(Q(last_paged_at__isnull=True) | Q(last_paged_at__lte=quiet_since))
        .update(last_paged_at=now, pages=F("pages") + 1)
    )
    if claimed:
        alert.refresh_from_db()
        page_triage(alert, now=now)
    return bool(claimed)


def triage_reprocess(*, service: str, code: str, now=None) -> dict:
    """Count recent unmatched triggers of a service/code into the actions covering it now.

    Each trigger is claimed (`reprocessed_at`) before it counts, so a second click
    or a concurrent one finds nothing left. Like ingest, a report counts as one
    occurrence per action: a report another of whose triggers already counted for
    an action joins that incident without counting again. Nothing is claimed while
    no action covers the code.
    """
    now = now or timezone.now()
    action_ids = actions_matching([(service, code)]).get((service, code), set())
    if not action_ids:
        return {"triggers": 0, "occurrences": 0, "actions": 0}
    since = now - settings.CXHUB_TRIAGE_REPROCESS_WINDOW
    with transaction.atomic():
        triggers = list(
            selectors.unmatched_triggers(service=service, code=code, since=since)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("report__integration")
            .order_by("received_at", "id")
        )
        claimed = Trigger.objects.filter(
            id__in=[t.id for t in triggers], reprocessed_at__isnull=True
        ).update(reprocessed_at=now)
        if claimed != len(triggers):
            # Only possible without row locks (SQLite serialises writers instead).
            raise RuntimeError("Triggers were re-processed concurrently; try again.")
        entries: dict = {}
        for trigger in triggers:
            entries.setdefault(trigger.report_id, Entry(report=trigger.report, triggers=[]))
            entries[trigger.report_id].triggers.append(trigger)
        counted = dict(
            (((report_id, action_id), incident_id))
            for report_id, action_id, incident_id in Trigger.objects.filter(
                report_id__in=entries, incident__action_id__in=action_ids
            ).values_list("report_id", "incident__action_id", "incident_id")
        )
        occurrences = len({(r, a) for r in entries for a in action_ids} - set(counted))
        occurrences_count(entries.values(), now=now, only_actions=action_ids, counted=counted)
    return {"triggers": len(triggers), "occurrences": occurrences, "actions": len(action_ids)}
