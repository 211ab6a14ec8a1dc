"""Team-page channels: one module per kind, one registry mapping kind -> class."""

from notifications.channels.apprise import AppriseChannel
from notifications.channels.base import DeliveryError
from notifications.channels.console import ConsoleChannel
from notifications.channels.locmem import LocmemChannel

REGISTRY = {cls.kind: cls for cls in (ConsoleChannel, LocmemChannel, AppriseChannel)}
CHANNEL_CHOICES = [(kind, cls.label) for kind, cls in REGISTRY.items()]


def get_channel(kind: str, registry=None):
    """Return an instance of the channel class registered for `kind` (in `registry`)."""
    try:
        return (REGISTRY if registry is None else registry)[kind]()
    except KeyError:
        raise DeliveryError(f"Unknown channel kind {kind!r}", permanent=True) from None


__all__ = ["CHANNEL_CHOICES", "AppriseChannel", "DeliveryError", "REGISTRY", "get_channel"]
