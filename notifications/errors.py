"""Why a send did not go out: the one error type channels and providers raise, its kinds,
and the outbound check both run before connecting."""


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


class Throttled(DeliveryError):
    """The provider's send rate is spent: the batch waits for the slot it reserved."""

    def __init__(self, message: str, *, until):
        super().__init__(message)
        self.until = until


def outbound_check(url: str, *, apprise: bool = False) -> None:
    """Refuse, permanently, a destination that resolves to an internal address (cxhub.outbound)."""
    from cxhub import outbound

    try:
        (outbound.check_apprise if apprise else outbound.check_url)(url)
    except (outbound.OutboundRefused, ValueError) as exc:
        raise DeliveryError(str(exc), permanent=True) from None
