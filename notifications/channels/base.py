class DeliveryError(Exception):
    """A send failed; `permanent` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class BaseChannel:
    kind = ""
    label = ""

    def send(self, *, target: str, title: str, body: str) -> None:
        """Send one message to `target`, or raise DeliveryError."""
        raise NotImplementedError
