from notifications.errors import DeliveryError, outbound_check

__all__ = ["BaseChannel", "DeliveryError", "outbound_check"]


class BaseChannel:
    kind = ""
    label = ""

    def send(self, *, target: str, title: str, body: str, key: str = "") -> None:
        """Send one message to `target`, or raise DeliveryError.

        `key` is the delivery's key: a channel passes it on where the receiver can
        use it to drop a repeated copy (an `Idempotency-Key` header).
        """
        raise NotImplementedError
