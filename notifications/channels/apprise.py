from urllib.parse import quote

import apprise

from notifications.channels.base import BaseChannel, DeliveryError, outbound_check
from notifications.errors import outbound_guarded

# Apprise's HTTP notifiers take extra request headers as `+Name=value` URL arguments.
_HEADER_SCHEMES = ("json://", "jsons://", "form://", "forms://", "xml://", "xmls://")


def with_delivery_key(target: str, key: str) -> str:
    """Add `Idempotency-Key: <key>` to a json/form/xml webhook target; others are unchanged."""
    if not key or not target.lower().startswith(_HEADER_SCHEMES):
        return target
    joiner = "&" if "?" in target else "?"
    return f"{target}{joiner}+Idempotency-Key={quote(key, safe='')}"


class AppriseChannel(BaseChannel):
    """Send through any Apprise URL: Slack, Teams, e-mail, Telegram, ntfy, json:// ..."""

    kind = "apprise"
    label = "Apprise URL"

    def send(self, *, target, title, body, key=""):
        outbound_check(target, apprise=True)
        sender = apprise.Apprise()
        if not sender.add(with_delivery_key(target, key)):
            raise DeliveryError("Apprise does not understand this URL", permanent=True)
        # Apprise reports failure as False (it logs the HTTP detail); a failed
        # send is usually transient (a 5xx, a timeout), so it is retried. The
        # guard refuses, permanently, any hop to an internal address (a redirect).
        with outbound_guarded():
            if not sender.notify(title=title, body=body):
                raise DeliveryError("Apprise could not deliver the message")
