"""Why a send did not go out: the one error type channels and providers raise, its kinds,
and the outbound guard both run around connecting."""

from contextlib import contextmanager


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
    except outbound.OutboundRefused as exc:
        # A name that does not resolve now may resolve on the next try.
        raise DeliveryError(str(exc), permanent=not exc.unresolved) from None
    except ValueError as exc:
        raise DeliveryError(str(exc), permanent=True) from None


@contextmanager
def outbound_guarded():
    """Check every connection made inside the block (each redirect hop too).

    A connection the guard refused makes the send a permanent DeliveryError
    naming why, whatever the client reported (Apprise only says False).
    """
    from cxhub import outbound

    with outbound.guarded() as guard:
        try:
            yield guard
        except Exception:
            if guard.refused:
                raise DeliveryError(guard.refused, permanent=True) from None
            raise
    if guard.refused:
        raise DeliveryError(guard.refused, permanent=True)
