"""Four-eyes approval of mass outage pushes: ask, decide, time out, cancel on resolve.

An outage push whose audience is above the threshold (the action's, else
CXHUB_PUSH_APPROVAL_THRESHOLD) does not fan out when it falls due: a
PushApproval waits for a second CX staff member. Whoever added or changed the
action in the admin cannot approve it. Deciding is a conditional UPDATE from
pending, so one decision wins. The kill switches still win after an approval:
every send checks them.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from incidents.models import Incident, TimelineEvent
from notifications import services as notify
from notifications.audiences import audience_of
from notifications.models import PushApproval
from notifications.selectors import audience_estimate


class ApprovalRefused(Exception):
    """The decision cannot be taken (who asks, or it was already decided)."""


def _event(incident, kind, detail, *, actor="cxhub", at):
    TimelineEvent.objects.create(incident=incident, kind=kind, detail=detail, actor=actor, at=at)


def approval_threshold(incident) -> int:
    """Return the audience size (customers) above which the push needs approval; 0: never."""
    approval = incident.policy.get("approval") or {}
    return approval.get("threshold") or settings.CXHUB_PUSH_APPROVAL_THRESHOLD


def push_start(incident, *, now) -> str:
    """Fan the due outage push out, or ask for approval; return what the timeline says.

    Called once per incident, under the incident's row lock, when the push falls due.
    """
    threshold = approval_threshold(incident)
    if threshold:
        size = audience_estimate(incident.policy.get("audience") or audience_of(incident.action))
        if size["customers"] > threshold:
            approval = incident.policy.get("approval") or {}
            minutes = approval.get("timeout_minutes")
            PushApproval.objects.get_or_create(
                incident=incident,
                defaults={
                    "customers": size["customers"],
                    "devices": size["devices"],
                    "threshold": threshold,
                    "requested_at": now,
                    "timeout_at": now + timedelta(minutes=minutes) if minutes else None,
                    "timeout_sends": bool(approval.get("timeout_sends")),
                },
            )
            detail = (
                f"Outage push to {size['customers']} customer(s) waits for a second person's "
                f"approval (threshold {threshold})"
            )
            _event(incident, TimelineEvent.Kind.PUSH_APPROVAL_ASKED, detail, at=now)
            return detail
    batches = notify.push_fan_out(incident, now=now)
    detail = f"Outage push queued at {incident.occurrences} occurrences in {batches} batch(es)"
    _event(incident, TimelineEvent.Kind.PUSH_QUEUED, detail, at=now)
    return detail


def excluded_approvers(action) -> set[str]:
    """Return the usernames that may not approve the action's pushes: who set it up."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    return set(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(action), object_id=str(action.pk)
        ).values_list("user__username", flat=True)
    )


def push_approval_decide(approval_id, *, approve: bool, by: str, now=None) -> PushApproval:
    """Approve (fan the push out) or reject a waiting push, as user `by`."""
    now = now or timezone.now()
    approval = PushApproval.objects.select_related("incident__action").get(pk=approval_id)
    if approve and by in excluded_approvers(approval.incident.action):
        raise ApprovalRefused(
            "You set this action up: another CX staff member must approve its push."
        )
    status = PushApproval.Status.APPROVED if approve else PushApproval.Status.REJECTED
    return _decide(approval, status=status, by=by, now=now)


def _decide(approval, *, status, by, now) -> PushApproval:
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=approval.incident_id)
        if incident.is_resolved:
            status = PushApproval.Status.CANCELLED
        claimed = PushApproval.objects.filter(
            pk=approval.pk, status=PushApproval.Status.PENDING
        ).update(status=status, decided_by=by, decided_at=now)
        if not claimed:
            raise ApprovalRefused("This push was already decided.")
        approval.status, approval.decided_by, approval.decided_at = status, by, now
        if status in (PushApproval.Status.APPROVED, PushApproval.Status.TIMED_OUT_SENT):
            batches = notify.push_fan_out(incident, now=now)
            kind = TimelineEvent.Kind.PUSH_APPROVED
            detail = f"{approval.get_status_display()} by {by}: queued in {batches} batch(es)"
        else:
            kind = TimelineEvent.Kind.PUSH_REJECTED
            detail = f"{approval.get_status_display()} by {by}: nothing is sent"
        _event(incident, kind, detail, actor=by, at=now)
    return approval


def push_approvals_expire(*, now=None) -> int:
    """Decide the waiting pushes whose timeout passed, as each action says; return how many."""
    now = now or timezone.now()
    due = PushApproval.objects.filter(status=PushApproval.Status.PENDING, timeout_at__lte=now)
    decided = 0
    for approval in due.select_related("incident")[:100]:
        status = (
            PushApproval.Status.TIMED_OUT_SENT
            if approval.timeout_sends
            else PushApproval.Status.TIMED_OUT_CANCELLED
        )
        try:
            _decide(approval, status=status, by="cxhub", now=now)
        except ApprovalRefused:
            continue  # decided by a person meanwhile
        decided += 1
    return decided


def push_approval_cancel(incident, *, now) -> bool:
    """On resolve: a push still waiting is cancelled (so no all-clear either)."""
    return bool(
        PushApproval.objects.filter(incident=incident, status=PushApproval.Status.PENDING).update(
            status=PushApproval.Status.CANCELLED, decided_by="cxhub", decided_at=now
        )
    )
