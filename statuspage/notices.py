"""Notices to subscribers: which are due, rendered once, held for approval, fanned out once.

What is due is a function of the database, never of who noticed first: an
incident customers can see gets `incident:<id>:visible`, its resolve
`incident:<id>:resolved` (only when the first was told), a written update
`update:<id>`, a maintenance window `maintenance:<id>:<announced|reminder|
started|ended>`. The unique key makes each exist once, whether the signal
receiver, the beat sweep or a retry created it. A notice above the approval
threshold waits for a second person, as mass pushes do.
"""

from collections import defaultdict
from datetime import timedelta
from itertools import islice

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from actions.models import TriggerRule
from cxhub.enqueue import enqueue_on_commit
from incidents.lifecycle.approvals import DECIDE, approval_threshold
from incidents.models import Incident, MaintenanceWindow
from notifications.deliveries import deliveries_queue
from notifications.models import Delivery
from statuspage.models import Notice, Subscriber
from statuspage.notice_texts import notice_context, notice_texts
from statuspage.subscribers import audience
from statuspage.visibility import incident_customer_visible, visible_maintenance

Kind = Notice.Kind
FAN_OUT_TASK = "statuspage.tasks.notice_fan_out_task"
# Deliveries inserted per statement while fanning out (each of CXHUB_PUSH_BATCH_SIZE ids).
INSERT_BATCHES = 100


class NoticeRefused(Exception):
    """This person may not decide, or the notice no longer waits."""


def customer_facing_of_actions(action_ids) -> dict[int, set[int]]:
    """Return {action id: {customer-facing service id, ...}} in one query (empty if none)."""
    found = defaultdict(set)
    for action_id, service_id in TriggerRule.objects.filter(
        action_id__in=set(action_ids), service__status_visible=True
    ).values_list("action_id", "service_id"):
        found[action_id].add(service_id)
    return found


def incident_service_ids(incident: Incident) -> list[int]:
    """Return the customer-facing services an incident's action covers."""
    return sorted(customer_facing_of_actions([incident.action_id])[incident.action_id])


def window_service_ids(window: MaintenanceWindow, *, by_action: dict | None = None) -> list[int]:
    """Return the customer-facing services a maintenance window holds.

    `by_action` is `customer_facing_of_actions` of the windows' actions when the
    caller read it for many windows at once.
    """
    if window.service_id:
        return [window.service_id] if window.service.status_visible else []
    if by_action is None:
        by_action = customer_facing_of_actions([window.action_id])
    return sorted(by_action[window.action_id])


def audience_size(service_ids) -> int:
    return (
        audience(service_ids, Subscriber.Kind.EMAIL).count()
        + audience(service_ids, Subscriber.Kind.WEBHOOK).count()
    )


def notice_create(
    kind: str,
    *,
    key: str,
    service_ids: list[int],
    context: dict,
    threshold: int,
    now,
    requested_by: str = "cxhub",
    **links,
) -> Notice | None:
    """Create the notice `key` once and queue its fan-out, or hold it above `threshold`.

    Its texts are rendered now from `context` (times in the bank's zone); the
    context is kept to write them again in a subscriber's zone when sent.
    Returns the notice when this call created it, None when it existed already.
    """
    size = audience_size(service_ids)
    texts = notice_texts(kind, service_ids=service_ids, **context)
    held = bool(threshold) and size > threshold
    with transaction.atomic():
        notice, created = Notice.objects.get_or_create(
            key=key,
            defaults={
                "kind": kind,
                "service_ids": service_ids,
                "texts": texts,
                "context": notice_context(**context),
                "audience": size,
                "threshold": threshold,
                "status": Notice.Status.HELD if held else Notice.Status.QUEUED,
                "requested_by": requested_by,
                "created_at": now,
                **links,
            },
        )
        if created and not held:
            enqueue_on_commit(FAN_OUT_TASK, str(notice.pk))
    return notice if created else None


def incident_key(incident: Incident, moment: str) -> str:
    """Return the key of an incident's notice for its current generation (one per reopen).

    incident:<id>:visible and incident:<id>:resolved, then :g1, :g2 ... after each
    reopen (Incident.reopens), so a reopen is told once and its resolve once.
    """
    suffix = f":g{incident.reopens}" if incident.reopens else ""
    return f"incident:{incident.pk}:{moment}{suffix}"


def incident_notices(incident_id, *, now=None) -> list[Notice]:
    """Create the notices an incident is due now: it became visible (again), or it resolved.

    After a reopen, subscribers who heard of the first episode hear "down again":
    a visible notice of the new generation, with its own resolve.
    """
    now = now or timezone.now()
    incident = Incident.objects.select_related("action").filter(pk=incident_id).first()
    if incident is None:
        return []
    service_ids = incident_service_ids(incident)
    if not service_ids:
        return []
    created = []
    visible_key = incident_key(incident, "visible")
    told = Notice.objects.filter(key=visible_key).exists()
    threshold = approval_threshold(incident)
    if not told and not incident.is_resolved and incident_customer_visible(incident):
        earlier = Notice.objects.filter(
            incident=incident, kind__in=[Kind.INCIDENT_VISIBLE, Kind.INCIDENT_REOPENED]
        ).exists()
        kind = Kind.INCIDENT_REOPENED if earlier else Kind.INCIDENT_VISIBLE
        created.append(
            notice_create(
                kind,
                key=visible_key,
                service_ids=service_ids,
                context={"since": incident_since(incident)},
                threshold=threshold,
                now=now,
                incident=incident,
            )
        )
    elif told and incident.is_resolved:
        created.append(
            notice_create(
                Kind.INCIDENT_RESOLVED,
                key=incident_key(incident, "resolved"),
                service_ids=service_ids,
                context={"at": incident.resolved_at or now},
                threshold=threshold,
                now=now,
                incident=incident,
            )
        )
    return [notice for notice in created if notice]


def incident_since(incident: Incident):
    """Return when this generation of an incident began: its reopen, else its opening."""
    if incident.reopens:
        reopened = (
            incident.events.filter(kind="reopened").order_by("-at").values_list("at", flat=True)
        ).first()
        if reopened:
            return reopened
    return incident.opened_at


def _window_stages(window: MaintenanceWindow, *, now) -> list[str]:
    """Return which of a window's notices are due now, in order."""
    reminder_at = window.starts_at - timedelta(minutes=settings.CXHUB_STATUS_REMINDER_MINUTES)
    stages = []
    # An occurrence of a recurring window is announced a week ahead, not all at once
    # when the rule is saved (it writes CXHUB_MAINTENANCE_HORIZON_DAYS of them).
    announce_from = (
        window.starts_at - timedelta(days=settings.CXHUB_STATUS_ANNOUNCE_DAYS)
        if window.recurrence_id
        else window.created_at
    )
    if announce_from <= now < window.starts_at and window.created_at < window.starts_at:
        stages.append("announced")
    # A reminder only for a window announced before its reminder was due.
    if reminder_at <= now < window.starts_at and window.created_at <= reminder_at:
        stages.append("reminder")
    if window.starts_at <= now < window.ends_at:
        stages.append("started")
    if window.ends_at <= now and window.starts_at < window.ends_at:
        stages.append("ended")
    return stages


STAGE_KINDS = {
    "announced": Kind.MAINTENANCE_ANNOUNCED,
    "reminder": Kind.MAINTENANCE_REMINDER,
    "started": Kind.MAINTENANCE_STARTED,
    "ended": Kind.MAINTENANCE_ENDED,
}


def maintenance_notices(*, now=None, window_id=None) -> list[Notice]:
    """Create the notices maintenance windows are due now (announced, reminder, started, ended).

    "Ended" only follows a window whose start was told, so a window cancelled
    before it began says nothing more.
    """
    now = now or timezone.now()
    windows = (
        visible_maintenance().select_related("service").filter(ends_at__gte=now - timedelta(days=1))
    )
    if window_id is not None:
        windows = windows.filter(pk=window_id)
    created = []
    for window in windows:
        service_ids = window_service_ids(window)
        if not service_ids:
            continue
        for stage in _window_stages(window, now=now):
            key = f"maintenance:{window.pk}:{stage}"
            if (
                stage == "ended"
                and not Notice.objects.filter(key=f"maintenance:{window.pk}:started").exists()
            ):
                continue
            if Notice.objects.filter(key=key).exists():
                continue
            created.append(
                notice_create(
                    STAGE_KINDS[stage],
                    key=key,
                    service_ids=service_ids,
                    context={"start": window.starts_at, "end": window.ends_at},
                    threshold=settings.CXHUB_PUSH_APPROVAL_THRESHOLD,
                    now=now,
                    maintenance=window,
                )
            )
    return [notice for notice in created if notice]


def notices_sweep(*, now=None) -> int:
    """Create every notice due now and fan out queued ones a lost task left; return how many.

    Looks at unresolved incidents of actions on the page, incidents resolved in
    the last day that were told, and maintenance windows of the last day onwards.
    """
    now = now or timezone.now()
    told = Notice.objects.filter(kind__in=[Kind.INCIDENT_VISIBLE, Kind.INCIDENT_REOPENED]).values(
        "incident_id"
    )
    incidents = Incident.objects.filter(
        Q(action__status_visible=True) & ~Q(status=Incident.Status.RESOLVED)
        | Q(pk__in=told, resolved_at__gte=now - timedelta(days=1))
    ).values_list("pk", flat=True)
    created = 0
    for incident_id in incidents:
        created += len(incident_notices(incident_id, now=now))
    created += len(maintenance_notices(now=now))
    lost = Notice.objects.filter(
        status=Notice.Status.QUEUED,
        fanned_out_at__isnull=True,
        created_at__lte=now - settings.CXHUB_STALE_AFTER,
    ).values_list("pk", flat=True)
    for notice_id in lost:
        notice_fan_out(notice_id, now=now)
    return created


def batched(iterable, size: int):
    """Yield lists of `size` items (the last one shorter); itertools.batched is 3.12+."""
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def notice_fan_out(notice_id, *, now=None) -> int:
    """Cut a queued notice's audience into deliveries, once; return how many.

    The conditional UPDATE on `fanned_out_at` lets one caller fan out; e-mail
    subscribers go in batches of CXHUB_PUSH_BATCH_SIZE ids streamed in id order
    (the audience is never loaded whole), each webhook in a delivery of its own,
    all published after commit.
    """
    now = now or timezone.now()
    with transaction.atomic():
        if not Notice.objects.filter(
            pk=notice_id, status=Notice.Status.QUEUED, fanned_out_at__isnull=True
        ).update(fanned_out_at=now):
            return 0
        notice = Notice.objects.get(pk=notice_id)
        size = settings.CXHUB_PUSH_BATCH_SIZE
        title = notice.subject("pt-br")
        ids = (
            audience(notice.service_ids, Subscriber.Kind.EMAIL)
            .order_by("id")
            .values_list("id", flat=True)
            .iterator(chunk_size=2000)
        )
        pending, count = [], 0
        for n, chunk in enumerate(batched(ids, size)):
            pending.append(
                Delivery(
                    key=f"status-notice:{notice.pk}:{n}",
                    purpose=Delivery.Purpose.STATUS_NOTICE,
                    provider="email",
                    title=title,
                    message=notice.key,
                    recipients=[str(pk) for pk in chunk],
                    size=len(chunk),
                    due_at=now,
                )
            )
            if len(pending) >= INSERT_BATCHES:
                deliveries_queue(pending, now=now)
                count += len(pending)
                pending = []
        for pk in audience(notice.service_ids, Subscriber.Kind.WEBHOOK).values_list(
            "id", flat=True
        ):
            pending.append(
                Delivery(
                    key=f"status-notice:{notice.pk}:w:{pk}",
                    purpose=Delivery.Purpose.STATUS_NOTICE,
                    provider="webhook",
                    title=title,
                    message=notice.key,
                    recipients=[str(pk)],
                    size=1,
                    due_at=now,
                )
            )
        deliveries_queue(pending, now=now)
        return count + len(pending)


def notice_of(delivery: Delivery) -> Notice:
    """Return the notice a status-notice delivery carries (its key: status-notice:<id>:...)."""
    return Notice.objects.get(pk=delivery.key.split(":")[1])


def notice_refusal(notice: Notice, user) -> str:
    """Return why `user` may not decide a held notice, or ''.

    The rule of mass pushes (incidents.lifecycle.approvals): the permission to decide mass
    pushes, and a second person: whoever asked for the notice may not approve it.
    """
    if not user.has_perm(DECIDE):
        return f"{user.get_username()} may not approve mass notices."
    if user.get_username() == notice.requested_by:
        return f"{user.get_username()} asked for this notice: a second person must approve it."
    return ""


def notice_decide(notice_id, *, user, approve: bool, now=None) -> None:
    """Approve (fan out) or reject a held notice; raise NoticeRefused when not allowed."""
    now = now or timezone.now()
    notice = Notice.objects.get(pk=notice_id)
    refusal = notice_refusal(notice, user)
    if refusal:
        raise NoticeRefused(refusal)
    status = Notice.Status.QUEUED if approve else Notice.Status.REJECTED
    with transaction.atomic():
        if not Notice.objects.filter(pk=notice_id, status=Notice.Status.HELD).update(
            status=status, decided_by=user.get_username(), decided_at=now
        ):
            raise NoticeRefused("Somebody decided this notice already.")
        if approve:
            enqueue_on_commit(FAN_OUT_TASK, str(notice_id))
