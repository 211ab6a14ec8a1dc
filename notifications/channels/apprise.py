import apprise

from notifications.channels.base import BaseChannel, DeliveryError, outbound_check


class AppriseChannel(BaseChannel):
    """Send through any Apprise URL: Slack, Teams, e-mail, Telegram, ntfy, json:// ..."""

    kind = "apprise"
    label = "Apprise URL"

    def send(self, *, target, title, body):
        outbound_check(target, apprise=True)
        sender = apprise.Apprise()
        if not sender.add(target):
            raise DeliveryError("Apprise does not understand this URL", permanent=True)
        # Apprise reports failure as False (it logs the HTTP detail); a failed
        # send is usually transient (a 5xx, a timeout), so it is retried.
        if not sender.notify(title=title, body=body):
            raise DeliveryError("Apprise could not deliver the message")
