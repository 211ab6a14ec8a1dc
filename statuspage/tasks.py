"""Thin tasks: each names its service and calls it; the database says what is due."""

from celery import shared_task

from statuspage.notices import (
    FAN_OUT_TASK,
    incident_notices,
    maintenance_notices,
    notice_fan_out,
    notices_sweep,
)


@shared_task(name="statuspage.tasks.notices_sweep")
def notices_sweep_task() -> int:
    """Create the notices due now and fan out lost ones (beat runs this)."""
    return notices_sweep()


@shared_task(name="statuspage.tasks.incident_notices")
def incident_notices_task(incident_id: str) -> int:
    """Create the notices one incident is due now (its timeline moved)."""
    return len(incident_notices(incident_id))


@shared_task(name="statuspage.tasks.maintenance_notices")
def maintenance_notices_task(window_id: int) -> int:
    """Create the notices one maintenance window is due now (it was saved)."""
    return len(maintenance_notices(window_id=window_id))


@shared_task(name=FAN_OUT_TASK)
def notice_fan_out_task(notice_id: str) -> int:
    """Queue a notice's deliveries, once."""
    return notice_fan_out(notice_id)
