from celery import shared_task

from notifications.services import delivery_send


@shared_task(name="notifications.tasks.send_delivery")
def send_delivery(delivery_id: str) -> None:
    """Send one delivery; the service claims it, so duplicates are harmless."""
    delivery_send(delivery_id)
