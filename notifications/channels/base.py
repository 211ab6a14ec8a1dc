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


def outbound_check(url: str, *, apprise: bool = False) -> None:
    """Refuse, permanently, a destination that resolves to an internal address (cxhub.outbound)."""
    from cxhub import outbound

    try:
        (outbound.check_apprise if apprise else outbound.check_url)(url)
    except (outbound.OutboundRefused, ValueError) as exc:
        raise DeliveryError(str(exc), permanent=True) from None
