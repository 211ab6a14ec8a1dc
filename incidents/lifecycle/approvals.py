"""Four-eyes approval of mass outage pushes: hold, approve or reject, time out.

An outage push whose audience is above the threshold (the action's, else
CXHUB_PUSH_APPROVAL_THRESHOLD) is not fanned out when it falls due: a
`PushApproval` waits for a second CX staff member. Whoever set the action up
or ran its dry run may not approve it alone; `approval_refusal` is that rule,
for every path. The kill switches still win: an approved push's batches are
stopped at send time like any other.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from actions.audiences import audience_of
from incidents.history.texts import detail
from incidents.history.timeline import event_add
from incidents.models import Incident, PushApproval, TimelineEvent
from incidents.outreach.pushes import push_fan_out
from notifications.selectors import audience_estimate

DECIDE = "incidents.decide_pushapproval"
TIMEOUT_ACTOR = "cxhub (approval timeout)"
Kind = TimelineEvent.Kind
Status = PushApproval.Status


class ApprovalRefused(Exception):
    """This person may not decide, or the approval is no longer waiting."""


def approval_threshold(incident: Incident) -> int:
    """Return the audience size (customers) above which the push needs approval; 0: never."""
    frozen = (incident.policy.get("approval") or {}).get("threshold")
    return settings.CXHUB_PUSH_APPROVAL_THRESHOLD if frozen is None else frozen


def push_start(incident: Incident, *, now) -> PushApproval | None:
    """Fan the due outage push out, or hold it for approval when its audience is large.

    Runs in the evaluation's transaction, on the locked incident whose push was
    just claimed. Returns the approval when the push is held.
    """
    threshold = approval_threshold(incident)
    size = None
    if threshold:
        size = audience_estimate(incident.policy.get("audience") or audience_of(incident.action))
    if size is None or size["customers"] <= threshold:
        batches = push_fan_out(incident, now=now)
        event_add(
            incident,
            Kind.PUSH_QUEUED,
            detail("push_queued", occurrences=incident.occurrences, batches=batches),
            at=now,
        )
        return None
    rules = incident.policy.get("approval") or {}
    minutes = rules.get("timeout_minutes")
    approval = PushApproval.objects.create(
        incident=incident,
        customers=size["customers"],
        devices=size["devices"],
        threshold=threshold,
        set_up_by=rules.get("set_up_by") or [],
        requested_at=now,
        expires_at=now + timedelta(minutes=minutes) if minutes else None,
    )
    held = {"customers": size["customers"], "devices": size["devices"], "threshold": threshold}
    if approval.expires_at:
        key = "push_held_sends" if rules.get("timeout_sends") else "push_held_cancels"
        message = detail(key, until=approval.expires_at, **held)
    else:
        message = detail("push_held", **held)
    event_add(incident, Kind.PUSH_HELD, message, at=now)
    return approval


def approval_refusal(approval: PushApproval, user) -> str:
    """Return why `user` may not decide this approval, or '' (the one rule, every path)."""
    if not user.has_perm(DECIDE):
        return f"{user.get_username()} may not approve mass pushes."
    action = approval.incident.action
    authors = set(approval.set_up_by) | {action.last_edited_by, action.last_tested_by}
    if user.get_username() in authors - {""}:
        return (
            f"{user.get_username()} set up or tested action {action.code}: "
            "a second person must approve its push."
        )
    return ""


def push_decide(approval_id, *, user, approve: bool, now=None) -> int:
    """Approve (fan the push out) or reject a held push; return the batches queued.

    Raises ApprovalRefused when the rule forbids it or it is no longer pending.
    """
    now = now or timezone.now()
    refusal, batches = "", 0
    with transaction.atomic():
        approval = PushApproval.objects.select_related("incident__action").get(pk=approval_id)
        refusal = approval_refusal(approval, user)
        if not refusal:
            incident = (
                Incident.objects.select_for_update()
                .select_related("action")
                .get(pk=approval.incident_id)
            )
            by = user.get_username()
            status = Status.APPROVED if approve else Status.REJECTED
            if incident.status == Incident.Status.RESOLVED:
                _drop_resolved(approval.pk, now=now)
                refusal = "The incident resolved: its push is no longer due."
            elif not _decide(approval.pk, status, by=by, now=now):
                refusal = "Somebody decided this push already."
            else:
                batches = _apply(incident, approve, by=by, now=now)
    if refusal:  # raised after commit, so a dropped approval stays recorded
        raise ApprovalRefused(refusal)
    return batches


def _decide(approval_id, status, *, by, now) -> bool:
    return bool(
        PushApproval.objects.filter(pk=approval_id, status=Status.PENDING).update(
            status=status, decided_by=by, decided_at=now
        )
    )


def _drop_resolved(approval_id, *, now) -> None:
    PushApproval.objects.filter(pk=approval_id, status=Status.PENDING).update(
        status=Status.RESOLVED, decided_at=now
    )


def _apply(incident: Incident, send: bool, *, by: str, now, timeout: bool = False) -> int:
    if not send:
        message = (
            detail("push_timeout_cancelled", at=now)
            if timeout
            else detail("push_rejected", by=by, at=now)
        )
        event_add(incident, Kind.PUSH_REJECTED, message, actor=by, at=now)
        return 0
    batches = push_fan_out(incident, now=now)
    message = (
        detail("push_timeout_sent", at=now, batches=batches)
        if timeout
        else detail("push_approved", by=by, at=now, batches=batches)
    )
    event_add(incident, Kind.PUSH_APPROVED, message, actor=by, at=now)
    return batches


def approvals_expire(*, now) -> int:
    """Send or cancel held pushes nobody decided in time; drop those of resolved incidents."""
    PushApproval.objects.filter(
        status=Status.PENDING, incident__status=Incident.Status.RESOLVED
    ).update(status=Status.RESOLVED, decided_at=now)
    expired = list(
        PushApproval.objects.filter(status=Status.PENDING, expires_at__lte=now).values_list(
            "pk", flat=True
        )[:100]
    )
    for approval_id in expired:
        with transaction.atomic():
            approval = PushApproval.objects.select_related("incident").get(pk=approval_id)
            incident = (
                Incident.objects.select_for_update()
                .select_related("action")
                .get(pk=approval.incident_id)
            )
            if incident.status == Incident.Status.RESOLVED:
                _drop_resolved(approval_id, now=now)
                continue
            send = bool((incident.policy.get("approval") or {}).get("timeout_sends"))
            status = Status.SENT_ON_TIMEOUT if send else Status.CANCELLED_ON_TIMEOUT
            if _decide(approval_id, status, by=TIMEOUT_ACTOR, now=now):
                _apply(incident, send, by=TIMEOUT_ACTOR, now=now, timeout=True)
    return len(expired)
