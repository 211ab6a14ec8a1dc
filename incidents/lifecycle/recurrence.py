"""Write the occurrences of recurring maintenance ahead, as maintenance windows.

Each run writes the occurrences that start between the rule's high-water mark
(`materialized_until`) and `CXHUB_MAINTENANCE_HORIZON_DAYS` from now, then moves
the mark: an occurrence someone cancelled (deleted) is behind the mark and never
written again. The rule's row is locked while it runs, so two beat runs cannot
both write; the unique (recurrence, starts_at) makes a retry harmless anyway.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from incidents.lifecycle.commands import maintenance_saved
from incidents.models import MaintenanceWindow, RecurringMaintenance
from incidents.models.recurrence import rrule_occurrences


def _horizon(now):
    return now + timedelta(days=settings.CXHUB_MAINTENANCE_HORIZON_DAYS)


def recurrence_materialize(recurrence_id, *, now=None) -> int:
    """Write the rule's occurrences up to the horizon; return how many windows were added."""
    now = now or timezone.now()
    with transaction.atomic():
        rule = RecurringMaintenance.objects.select_for_update().filter(pk=recurrence_id).first()
        if rule is None:
            return 0
        duration = timedelta(minutes=rule.duration_minutes)
        # The first run also writes an occurrence already running (its start is before now).
        since = rule.materialized_until or now - duration
        until = _horizon(now)
        if since >= until:
            return 0
        found = rrule_occurrences(
            rule.rule,
            starts_on=rule.starts_on,
            start_time=rule.start_time,
            duration=duration,
            time_zone=rule.time_zone,
            start=since,
            end=until,
        )
        created = MaintenanceWindow.objects.bulk_create(
            [
                MaintenanceWindow(
                    service_id=rule.service_id,
                    action_id=rule.action_id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    reason=rule.reason,
                    status_visible=rule.status_visible,
                    recurrence=rule,
                    created_by=rule.created_by,
                )
                for starts_at, ends_at in found
            ],
            ignore_conflicts=True,
        )
        RecurringMaintenance.objects.filter(pk=rule.pk).update(materialized_until=until)
        running = MaintenanceWindow.objects.filter(
            recurrence=rule, starts_at__lte=now, ends_at__gt=now
        ).first()
        if running is not None:
            # Mark the incidents it covers now, not at their next check.
            maintenance_saved(running, now=now)
    return len(created)


def recurrences_materialize(*, now=None) -> int:
    """Write ahead the occurrences of every recurring maintenance whose mark is behind."""
    now = now or timezone.now()
    behind = RecurringMaintenance.objects.exclude(materialized_until__gte=_horizon(now))
    return sum(recurrence_materialize(pk, now=now) for pk in behind.values_list("pk", flat=True))


def recurrence_saved(recurrence: RecurringMaintenance, *, now=None) -> int:
    """Rewrite the occurrences of a new or changed rule that have not started yet.

    A running occurrence stays as it was (end it from Maintenance windows); a new
    rule also writes the occurrence it is already in.
    """
    now = now or timezone.now()
    with transaction.atomic():
        mine = RecurringMaintenance.objects.select_for_update().filter(pk=recurrence.pk)
        list(mine)  # the lock
        written = MaintenanceWindow.objects.filter(recurrence=recurrence).exists()
        mine.update(materialized_until=now if written else None)
        MaintenanceWindow.objects.filter(recurrence=recurrence, starts_at__gt=now).delete()
        return recurrence_materialize(recurrence.pk, now=now)


def recurrence_delete(recurrence: RecurringMaintenance, *, now=None) -> None:
    """Delete a rule and its occurrences not started; past and running ones stay as records."""
    now = now or timezone.now()
    with transaction.atomic():
        MaintenanceWindow.objects.filter(recurrence=recurrence, starts_at__gt=now).delete()
        recurrence.delete()
