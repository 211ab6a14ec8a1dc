"""Thin tasks: each names its service and calls it; the database says what is due."""

from celery import shared_task

from incidents.counting.doorbell import REPORTS_DRAIN
from incidents.counting.drain import reports_drain
from incidents.counting.retention import retention_prune
from incidents.counting.sweep import sweep
from incidents.intake.heartbeats import heartbeats_check
from incidents.lifecycle.recurrence import recurrences_materialize


@shared_task(name=REPORTS_DRAIN)
def reports_drain_task(until: float = 0.0) -> int:
    """Count every waiting report, in batches (the doorbell rang)."""
    return reports_drain(until=until)


@shared_task(name="incidents.tasks.sweep")
def sweep_task() -> dict:
    """Find due work in the database (beat runs this every few seconds)."""
    return sweep()


@shared_task(name="incidents.tasks.prune")
def prune_task() -> dict:
    """Apply the retention policy (beat runs this hourly)."""
    return retention_prune()


@shared_task(name="incidents.tasks.heartbeats_check")
def heartbeats_check_task() -> dict:
    """Look for silent heartbeat checks and returning ones (beat runs this every few seconds)."""
    return heartbeats_check()


@shared_task(name="incidents.tasks.recurrences_materialize")
def recurrences_materialize_task() -> int:
    """Write recurring maintenance occurrences ahead (beat runs this hourly)."""
    return recurrences_materialize()
