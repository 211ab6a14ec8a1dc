from celery import shared_task

from oncall import services


@shared_task(name="oncall.tasks.schedules_refresh")
def schedules_refresh() -> None:
    """Read the iCal feeds and keep every schedule's shifts materialized to the horizon."""
    services.schedules_refresh()
