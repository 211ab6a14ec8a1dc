"""Why a send did not go out: the one error type channels and providers raise, and its kinds."""


class DeliveryError(Exception):
    """A send failed; `permanent` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class PushCancelled(DeliveryError):
    """A kill switch stopped a push batch: it is cancelled, not sent."""


class ClaimLost(DeliveryError):
    """The lease ran out and the sweep gave the delivery to another attempt."""
