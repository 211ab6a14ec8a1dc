"""A person's contact methods: SMS or e-mail through the configured gateway, or Apprise.

SMS and e-mail go through the same providers as the customers' fallback
(CXHUB_SMS_PROVIDER, CXHUB_EMAIL_PROVIDER: console, locmem, apprise, webhook),
one message per send; an Apprise contact method is sent like an Apprise team
channel. One registry maps kind -> class and feeds the contact method's choices.
"""

from notifications.channels import AppriseChannel, get_channel
from notifications.channels.base import BaseChannel, DeliveryError
from notifications.fallback import FallbackMessage, get_fallback_provider


class GatewayChannel(BaseChannel):
    """Send one message to a number or address through the kind's fallback provider."""

    def send(self, *, target, title, body, key=""):
        message = FallbackMessage(
            customer_id=0, channel=self.kind, address=target, locale="", body=body
        )
        failures = get_fallback_provider(self.kind).send(
            messages=[message], title=title, reference=key
        )
        if failure := failures.get(0):
            raise DeliveryError(failure.error, permanent=not failure.transient)


class SmsChannel(GatewayChannel):
    kind = "sms"
    label = "SMS"


class EmailChannel(GatewayChannel):
    kind = "email"
    label = "E-mail"


REGISTRY = {cls.kind: cls for cls in (SmsChannel, EmailChannel, AppriseChannel)}
CONTACT_CHOICES = [(kind, cls.label) for kind, cls in REGISTRY.items()]


def get_contact_channel(kind: str):
    """Return an instance of the channel class registered for a contact method's `kind`."""
    return get_channel(kind, REGISTRY)
