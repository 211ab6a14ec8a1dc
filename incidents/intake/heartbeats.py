"""Dead man's switches: notice when monitoring goes silent, and when it is back.

A heartbeat check expects a signal (a ping, or its integration's Watchdog alert)
at least every `expected_minutes`. Past that and `grace_minutes`, the beat task
records a firing trigger of the check's service with code `heartbeat`, through
the ordinary ingest, so the chosen action's incident opens and pages its team;
when signals return it records the resolve, which resolves the incident. The
state changes are claims (conditional UPDATEs), so two beat runs act once.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from cxhub.hotcache import TtlCache
from incidents.history.timeline import local_time
from incidents.intake.ingest import report_ingest
from incidents.intake.parsers import FIRING, RESOLVED
from incidents.models import HeartbeatCheck, Integration, hash_token

CODE = "heartbeat"
# The sender of the triggers the checks record: internal, disabled (no one posts as it).
INTEGRATION_NAME = "cxhub-heartbeats"

# integration id -> [(check id, signal alert name)]: read on every monitoring request.
_checks = TtlCache()
post_save.connect(_checks.clear, sender=HeartbeatCheck, weak=False)
post_delete.connect(_checks.clear, sender=HeartbeatCheck, weak=False)


def _checks_of(integration) -> list[tuple[int, str]]:
    return _checks.get(
        integration.pk,
        lambda: list(
            HeartbeatCheck.objects.filter(integration=integration, enabled=True).values_list(
                "id", "signal_alertname"
            )
        ),
    )


def _seen(checks) -> int:
    """Stamp a signal on these checks; a check waiting for its first one is up from now.

    A silent check stays silent until the beat task records its return (and resolves).
    """
    waiting = Q(state=HeartbeatCheck.State.NEW)
    return checks.update(
        last_seen_at=timezone.now(),
        state=Case(When(waiting, then=Value(HeartbeatCheck.State.UP)), default=F("state")),
    )


def watchdog_take(integration, body):
    """Stamp the checks fed by this notification's signal alerts; return the body without them.

    The signal alert (Watchdog) is the heartbeat, not a failure: it is not a
    trigger. Return None when nothing else is left to record.
    """
    checks = _checks_of(integration)
    names = {name for _, name in checks if name}
    alerts = body.get("alerts") if isinstance(body, dict) else None
    if not names or not isinstance(alerts, list):
        return body
    seen, rest = set(), []
    for alert in alerts:
        labels = alert.get("labels") if isinstance(alert, dict) else None
        name = labels.get("alertname") if isinstance(labels, dict) else None
        if name in names:
            if alert.get("status", "firing") == "firing":
                seen.add(name)
        else:
            rest.append(alert)
    if seen:
        ids = [pk for pk, name in checks if name in seen]
        _seen(HeartbeatCheck.objects.filter(id__in=ids))
    if len(rest) == len(alerts):
        return body
    return {**body, "alerts": rest} if rest else None


def integration_signal(integration) -> None:
    """Stamp the checks fed by any accepted request of this integration (no signal alert)."""
    if any(not name for _, name in _checks_of(integration)):
        _seen(
            HeartbeatCheck.objects.filter(
                integration=integration, enabled=True, signal_alertname=""
            )
        )


def heartbeat_ping(token: str) -> HeartbeatCheck | None:
    """Record a ping of the check this token belongs to (if enabled); return the check."""
    check = HeartbeatCheck.objects.filter(token_hash=hash_token(token)).first()
    if check is not None and check.enabled:
        _seen(HeartbeatCheck.objects.filter(pk=check.pk))
    return check


def heartbeat_rule_ensure(check: HeartbeatCheck) -> None:
    """Make the chosen action cover the check's service with code `heartbeat`."""
    from actions.models import TriggerRule

    TriggerRule.objects.get_or_create(action=check.action, service=check.service, code=CODE)


def _sender() -> Integration:
    integration = Integration.objects.filter(name=INTEGRATION_NAME).first()
    if integration is None:
        integration = Integration(name=INTEGRATION_NAME, kind=Integration.Kind.GENERIC)
        integration.enabled = False
        integration.set_new_token()
        try:
            with transaction.atomic():
                integration.save()
        except IntegrityError:  # created by a concurrent run
            integration = Integration.objects.get(name=INTEGRATION_NAME)
    return integration


def _trigger(check, status, summary) -> dict:
    return {
        "service": check.service.slug,
        "code": CODE,
        "status": status,
        "fingerprint": f"heartbeat:{check.pk}",
        "starts_at": None,
        "summary": summary[:500],
    }


def _record(check, status, summary, *, now):
    trigger = _trigger(check, status, summary)
    payload = {
        "heartbeat": check.name,
        "status": status,
        "last_seen_at": check.last_seen_at.isoformat() if check.last_seen_at else None,
        "expected_minutes": check.expected_minutes,
        "grace_minutes": check.grace_minutes,
        "at": now.isoformat(),
    }
    report_ingest(integration=_sender(), triggers=[trigger], payload=payload)


def heartbeats_check(now=None) -> dict:
    """Open an incident for each check silent past its grace; resolve those heard again."""
    now = now or timezone.now()
    silent = back = 0
    watching = HeartbeatCheck.objects.filter(
        enabled=True, state__in=[HeartbeatCheck.State.NEW, HeartbeatCheck.State.UP]
    ).select_related("service")
    for check in watching:
        since = check.last_seen_at or check.created_at
        allowed = timedelta(minutes=check.expected_minutes + check.grace_minutes)
        if since + allowed > now:
            continue
        with transaction.atomic():
            claimed = (
                # Unchanged since read: a ping in between keeps it up.
                HeartbeatCheck.objects.filter(
                    pk=check.pk, state=check.state, last_seen_at=check.last_seen_at
                ).update(state=HeartbeatCheck.State.DOWN, down_since=now)
            )
            if not claimed:
                continue
            when = local_time(since)
            _record(
                check,
                FIRING,
                f"No signal from heartbeat '{check.name}' since {when} (expected every "
                f"{check.expected_minutes} min, grace {check.grace_minutes} min): monitoring "
                f"of {check.service.slug} is blind",
                now=now,
            )
            silent += 1
    returning = HeartbeatCheck.objects.filter(state=HeartbeatCheck.State.DOWN).filter(
        Q(last_seen_at__gt=F("down_since")) | Q(enabled=False)
    )
    for check in returning.select_related("service"):
        with transaction.atomic():
            if not HeartbeatCheck.objects.filter(
                pk=check.pk, state=HeartbeatCheck.State.DOWN
            ).update(state=HeartbeatCheck.State.UP, down_since=None):
                continue
            why = "heard again" if check.enabled else "disabled"
            _record(check, RESOLVED, f"Heartbeat '{check.name}' {why}", now=now)
            back += 1
    return {"silent": silent, "back": back}
