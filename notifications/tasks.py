from celery import shared_task

from notifications.deliveries import SEND_TASK, delivery_send


@shared_task(name=SEND_TASK)
def send_delivery(delivery_id: str) -> None:
    """Send one delivery; the service claims it, so duplicates are harmless."""
    delivery_send(delivery_id)
