"""Occurrences: add them to the action's unresolved incident, opening or reopening one."""

from django.db import IntegrityError, connections, transaction
from django.db.models import F
from django.db.models.sql import UpdateQuery

from actions.models import Action
from incidents.counting.bounds import widened
from incidents.history.texts import detail
from incidents.history.timeline import event_add
from incidents.lifecycle.escalation import flap_reopens
from incidents.models import Incident, TimelineEvent
from incidents.models.policy import Policy
from incidents.outreach.reopen import incident_reopen_tell
from notifications.models import Delivery

Kind = TimelineEvent.Kind


def incident_count_occurrence(
    *, action_id, at, count=1, first_at=None, reports=0, seen: Incident | None = None
) -> Incident:
    """Add occurrences (one unless told) to the action's unresolved incident, opening one if needed.

    `at` is when the latest of them arrived, `first_at` the earliest (a new
    incident opens then; default `at`). `seen` is the action's unresolved
    incident as read before (with its action), if the caller looked. The same
    UPDATE widens the incident's trigger bounds to [first_at, at] and adds
    `reports`, the distinct reports whose triggers the caller links to it
    (incidents.counting.bounds).

    The F() update takes the incident's row lock until commit, so concurrent
    reports are counted one after the other; the partial unique constraint makes a
    second concurrent open fail, and that caller counts into the winner instead.
    """
    unresolved = Incident.objects.filter(action_id=action_id).exclude(
        status=Incident.Status.RESOLVED
    )
    first_at = first_at or at
    counted = {
        "occurrences": F("occurrences") + count,
        "last_occurrence_at": at,
        **widened(first=first_at, last=at, reports=reports),
    }
    if seen is not None and (incident := _count_returning(seen, counted)):
        occurrence_milestone(incident, added=count)
        return incident
    if unresolved.update(**counted):
        incident = unresolved.select_related("action").get()
        occurrence_milestone(incident, added=count)
        return incident
    reopened = incident_reopen_flapping(
        action_id=action_id, at=first_at, count=count, last_at=at, reports=reports
    )
    if reopened is not None:
        occurrence_milestone(reopened, added=count)
        return reopened
    action = Action.objects.get(id=action_id)
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                action=action,
                occurrences=count,
                opened_at=first_at,
                last_occurrence_at=at,
                first_received_at=first_at,
                last_received_at=at,
                report_count=reports,
                policy=Policy.of(action).to_json(),
            )
    except IntegrityError:
        return incident_count_occurrence(
            action_id=action_id, at=at, count=count, first_at=first_at, reports=reports
        )
    event_add(incident, Kind.OPENED, detail("opened", action=str(action)), at=first_at)
    occurrence_milestone(incident, added=count)  # a batch may open it past 10 already
    return incident


def _count_returning(seen: Incident, counted: dict) -> Incident | None:
    """Count into `seen` if still unresolved and return it as the UPDATE left it, else None.

    One statement (the ORM's UPDATE with RETURNING) where a count and a re-read
    were two: the row lock it takes lasts until commit, so the shorter the better.
    """
    mine = Incident.objects.filter(pk=seen.pk).exclude(status=Incident.Status.RESOLVED)
    query = mine.query.chain(UpdateQuery)
    query.add_update_values(counted)
    compiler = query.get_compiler(mine.db)
    compiler.pre_sql_setup()
    sql, params = compiler.as_sql()
    quote = connections[mine.db].ops.quote_name
    columns = ", ".join(quote(f.column) for f in Incident._meta.concrete_fields)
    counted = list(Incident.objects.raw(f"{sql} RETURNING {columns}", params))
    if not counted:
        return None
    counted[0].action = seen.action
    return counted[0]


def occurrence_milestone(incident: Incident, *, added: int = 1) -> None:
    """Note 10, 100, 1000 ... occurrences on the timeline (each count is reached once).

    `added` occurrences were just counted, so a jump (9 -> 11 alerts) still notes 10.
    Stamped when counted, like the pushes and pages it leads to, so the timeline
    reads in order even when reports wait in the queue.
    """
    milestone = 10
    while milestone <= incident.occurrences:
        if milestone > incident.occurrences - added:
            event_add(incident, Kind.OCCURRENCE, detail("milestone", n=milestone))
        milestone *= 10


def incident_reopen_flapping(*, action_id, at, count=1, last_at=None, reports=0) -> Incident | None:
    """Reopen the action's last incident if `at` falls in its flap window; count it.

    `at` is the earliest of the occurrences, `last_at` the latest (default `at`).

    Called when the action has no unresolved incident. If another incident opened
    meanwhile, the partial unique constraint refuses the reopening and the caller
    counts into that one instead.
    """
    last = (
        Incident.objects.filter(action_id=action_id, status=Incident.Status.RESOLVED)
        .order_by("-resolved_at")
        .first()
    )
    if last is None:
        return None
    policy = Policy.from_json(last.policy)
    if not flap_reopens(policy, resolved_at=last.resolved_at, at=at):
        return None
    try:
        with transaction.atomic():
            reopened = Incident.objects.filter(
                pk=last.pk, status=Incident.Status.RESOLVED, resolved_at=last.resolved_at
            ).update(
                status=Incident.Status.OPEN,
                resolved_at=None,
                resolved_by="",
                acknowledged_at=None,
                acknowledged_by="",
                occurrences=F("occurrences") + count,
                last_occurrence_at=at,
                next_check_at=None,
                reopens=F("reopens") + 1,
                **widened(first=at, last=last_at or at, reports=reports),
            )
    except IntegrityError:
        return None
    if not reopened:
        return None
    incident = Incident.objects.select_related("action").get(pk=last.pk)
    minutes = max(0, int((at - last.resolved_at).total_seconds() // 60))
    event_add(
        incident,
        Kind.REOPENED,
        detail(
            "reopened",
            minutes=minutes,
            by=last.resolved_by,
            flap=policy.flap_minutes,
            level=incident.escalation_level,
        ),
        at=max(at, last.resolved_at),
    )
    cancelled = Delivery.objects.filter(
        incident=incident, purpose=Delivery.Purpose.ALL_CLEAR, status=Delivery.Status.PENDING
    ).update(status=Delivery.Status.CANCELLED, last_error="The incident reopened.")
    if cancelled:
        event_add(
            incident,
            Kind.REOPENED,
            detail("reopened_all_clear_cancelled", cancelled=cancelled),
            at=max(at, last.resolved_at),
        )
    incident_reopen_tell(incident, resolved_at=last.resolved_at, now=max(at, last.resolved_at))
    return incident
