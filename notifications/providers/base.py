"""What every push provider shares: the message, the per-device failure, the interface.

One interface: `send(messages=[PushMessage(device, body)], title, reference)`
returns the failures by device id (a device absent from it was sent; transient
failures are retried for those devices only), or raises DeliveryError when the
whole batch failed (retried unless permanent).
"""

from collections import Counter
from dataclasses import dataclass

from notifications.errors import DeliveryError


@dataclass(frozen=True)
class PushMessage:
    device: object  # notifications.models.Device, with its customer loaded
    body: str


@dataclass(frozen=True)
class PushFailure:
    error: str
    # The provider says the token is dead (app uninstalled, bad token): disable the device.
    unregistered: bool = False
    # A per-token failure worth retrying (rate limit, provider 5xx).
    transient: bool = False


class BasePushProvider:
    name = ""
    label = ""

    def send(self, *, messages, title, reference) -> dict:
        """Send one batch; return {device id: PushFailure} for the devices not sent."""
        raise NotImplementedError


def by_body(messages) -> dict[str, list]:
    """Group messages by their text (one log line or request per text)."""
    groups: dict[str, list] = {}
    for message in messages:
        groups.setdefault(message.body, []).append(message)
    return groups


def platform_counts(messages) -> str:
    platforms = Counter(m.device.platform for m in messages)
    return ", ".join(f"{platform}: {n}" for platform, n in sorted(platforms.items()))


__all__ = ["BasePushProvider", "DeliveryError", "PushFailure", "PushMessage", "by_body"]
