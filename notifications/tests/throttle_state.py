"""Reset the send-rate schedules between tests and benchmark runs."""

from django.conf import settings

from notifications import throttle
from notifications.models import SendRateSchedule


def schedules_reset() -> None:
    """Forget every provider's schedule (tests, benchmarks)."""
    SendRateSchedule.objects.all().delete()
    if settings.CXHUB_THROTTLE_REDIS_URL:
        client = throttle._redis_client()
        for key in client.scan_iter("cxhub:send-rate:*"):
            client.delete(key)
