"""Triggers no action covers: page the triage team, and count them once an action does."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from actions.selectors import actions_matching
from incidents import selectors
from incidents.counting.rule import Entry, occurrences_count
from incidents.models import TriageAlert, TriageDigest, Trigger
from incidents.outreach.paging import page_triage


def triage_record(*, service: str, code: str, count: int, now) -> bool:
    """Count an uncovered service/code; mark it for the next digest at most once an interval.

    Return whether it is newly due to be announced. `triage_digest_send` pages.
    """
    alert, _ = TriageAlert.objects.get_or_create(
        service=service, code=code, defaults={"first_seen_at": now, "last_seen_at": now}
    )
    TriageAlert.objects.filter(pk=alert.pk).update(
        occurrences=F("occurrences") + count, last_seen_at=now
    )
    quiet_since = now - settings.CXHUB_TRIAGE_INTERVAL
    return bool(
        TriageAlert.objects.filter(pk=alert.pk)
        .filter(Q(last_paged_at__isnull=True) | Q(last_paged_at__lte=quiet_since))
        .update(last_paged_at=now, pages=F("pages") + 1, page_pending=True)
    )


def triage_digest_send(*, now) -> int:
    """Page the triage team once about every pair waiting, at most once per digest interval.

    The interval is claimed with a conditional UPDATE on the team's digest row, so
    concurrent workers send one digest; pairs that come meanwhile wait for the
    next one (the sweep sends it when the interval is over). Return the pairs told.
    """
    pending = TriageAlert.objects.filter(page_pending=True)
    if not pending.exists():
        return 0
    slug = settings.CXHUB_TRIAGE_TEAM
    digest, _ = TriageDigest.objects.get_or_create(team_slug=slug)
    free_since = now - timedelta(seconds=settings.CXHUB_TRIAGE_DIGEST_SECONDS)
    if not (
        TriageDigest.objects.filter(pk=digest.pk, number=digest.number)
        .filter(Q(sent_at__isnull=True) | Q(sent_at__lte=free_since))
        .update(sent_at=now, number=F("number") + 1)
    ):
        return 0  # sent within the interval, or by a concurrent worker just now
    alerts = list(pending.order_by("first_seen_at", "service", "code"))
    TriageAlert.objects.filter(pk__in=[a.pk for a in alerts]).update(page_pending=False)
    page_triage(alerts, number=digest.number + 1, now=now)
    return len(alerts)


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
        times = [t.received_at for t in triggers]
        claimed = (
            Trigger.objects.received_within(times)
            .filter(id__in=[t.id for t in triggers], reprocessed_at__isnull=True)
            .update(reprocessed_at=now)
        )
        if claimed != len(triggers):
            # Only possible without row locks (SQLite serialises writers instead).
            raise RuntimeError("Triggers were re-processed concurrently; try again.")
        entries: dict = {}
        for trigger in triggers:
            entries.setdefault(trigger.report_id, Entry(report=trigger.report, triggers=[]))
            entries[trigger.report_id].triggers.append(trigger)
        counted = dict(
            (((report_id, action_id), incident_id))
            for report_id, action_id, incident_id in Trigger.objects.received_within(times)
            .filter(report_id__in=entries, incident__action_id__in=action_ids)
            .values_list("report_id", "incident__action_id", "incident_id")
        )
        occurrences = len({(r, a) for r in entries for a in action_ids} - set(counted))
        occurrences_count(entries.values(), now=now, only_actions=action_ids, counted=counted)
    return {"triggers": len(triggers), "occurrences": occurrences, "actions": len(action_ids)}
