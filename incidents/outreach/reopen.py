"""A reopen speaks: the teams paged before and the customers told "it is over" hear again.

A trigger in the flap window reopens the incident (counting/opening.py); this
is what the reopen says, once per reopen generation (`Incident.reopens`, in
every key it queues): the tiers already paged are paged again saying it
reopened, the devices that heard the all-clear are told it is down again, and
what the resolve cancelled before it was sent (a push held for the customers'
morning, a push waiting for approval) is put back.
"""

from incidents.history.texts import detail
from incidents.history.timeline import event_add
from incidents.models import Incident, PushApproval, TimelineEvent
from incidents.models.policy import Policy
from incidents.outreach.paging import page_tier
from incidents.outreach.pushes import push_down_again, pushes_restore

Kind = TimelineEvent.Kind


def incident_reopen_tell(incident: Incident, *, resolved_at, now) -> None:
    """Page, push and put back what a reopen of `incident` (resolved at `resolved_at`) says.

    Runs right after the conditional UPDATE that reopened it, so once per reopen.
    Paging follows the tiers' rules as they stand: a silence or a maintenance
    window holds the pages (the later evaluation pages what is due), a
    maintenance window holds the push too.
    """
    restored = pushes_restore(incident, now=now)
    # A mass push waiting for approval when the incident resolved was dropped; it waits again.
    waiting = PushApproval.objects.filter(
        incident=incident, status=PushApproval.Status.RESOLVED
    ).update(status=PushApproval.Status.PENDING, decided_at=None)
    if restored or waiting:
        event_add(
            incident,
            Kind.REOPENED,
            detail("reopen_kept", batches=restored, approval=waiting),
            at=now,
        )
    held = incident.maintenance_until is not None and incident.maintenance_until > now
    silenced = incident.silenced_until is not None and incident.silenced_until > now
    if not (held or silenced):
        tiers = [
            t
            for t in Policy.from_json(incident.policy).tiers
            if t.level <= incident.escalation_level
        ]
        paged = [page_tier(incident, tier, now=now, resolved_at=resolved_at) for tier in tiers]
        if tiers:
            Incident.objects.filter(pk=incident.pk).update(last_paged_at=now)
            incident.last_paged_at = now
            people = [name for p in paged for name in p.people]
            event_add(
                incident,
                Kind.REOPEN_PAGED,
                detail(
                    "reopen_paged_people" if people else "reopen_paged",
                    tiers=", ".join(t.name for t in tiers),
                    channels=sum(p.channels for p in paged),
                    generation=incident.reopens,
                    **({"people": ", ".join(dict.fromkeys(people))} if people else {}),
                ),
                at=now,
            )
    if not held:
        batches = push_down_again(incident, now=now)
        if batches:
            event_add(
                incident,
                Kind.REOPEN_PUSHED,
                detail("reopen_pushed", batches=batches, generation=incident.reopens),
                at=now,
            )
