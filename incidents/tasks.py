from celery import shared_task

from incidents import services


@shared_task(name="incidents.tasks.process_report")
def process_report(report_id: str) -> None:
    """Count one report's triggers into incidents (a no-op if already done)."""
    services.report_process(report_id)


@shared_task(name="incidents.tasks.sweep")
def sweep() -> dict:
    """Find due work in the database (beat runs this every few seconds)."""
    return services.sweep()


@shared_task(name="incidents.tasks.prune")
def prune() -> dict:
    """Apply the retention policy (beat runs this hourly)."""
    from incidents.retention import retention_prune

    return retention_prune()
