"""Beat task: write recurring maintenance occurrences ahead (thin: the work is in `recurrence`)."""

from celery import shared_task

from incidents.recurrence import recurrences_materialize


@shared_task(name="incidents.maintenance_tasks.recurrences_materialize")
def recurrences_materialize_task() -> int:
    return recurrences_materialize()
