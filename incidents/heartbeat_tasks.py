from celery import shared_task


@shared_task(name="incidents.heartbeat_tasks.heartbeats_check")
def heartbeats_check() -> dict:
    """Look for silent heartbeat checks and returning ones (beat runs this every few seconds)."""
    from incidents.heartbeats import heartbeats_check as check

    return check()
