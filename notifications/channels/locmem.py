from notifications.channels.base import BaseChannel, DeliveryError

# Like django.core.mail.outbox: tests read and clear it.
outbox: list[dict] = []
# Tests put DeliveryError instances here to make the next sends fail.
failures: list[DeliveryError] = []


class LocmemChannel(BaseChannel):
    """Keep messages in memory, for tests."""

    kind = "locmem"
    label = "In memory (tests)"

    def send(self, *, target, title, body, key=""):
        if failures:
            raise failures.pop(0)
        outbox.append({"target": target, "title": title, "body": body, "key": key})
