"""Push providers: how a customer push batch reaches devices.

One module per provider, each a `BasePushProvider` with one `send`; this registry
maps a name to its class and feeds the action's choices. The provider is chosen
per action, else by CXHUB_PUSH_PROVIDER.
"""

from django.conf import settings

from notifications.providers import locmem
from notifications.providers.apprise import ApprisePushProvider
from notifications.providers.base import DeliveryError, PushFailure, PushMessage
from notifications.providers.console import ConsolePushProvider
from notifications.providers.fcm import FCM_SCOPE, FcmPushProvider, fcm_forget_tokens
from notifications.providers.locmem import LocmemPushProvider
from notifications.providers.webhook import WebhookPushProvider, sign

# The locmem provider's record, for tests: what it "sent" and what it should fail.
outbox = locmem.outbox
locmem_failures = locmem.failures

PROVIDERS = {
    cls.name: cls
    for cls in (
        ConsolePushProvider,
        LocmemPushProvider,
        WebhookPushProvider,
        ApprisePushProvider,
        FcmPushProvider,
    )
}
PUSH_PROVIDER_CHOICES = [(name, cls.label) for name, cls in PROVIDERS.items()]


def get_push_provider(name: str = ""):
    """Return the provider `name`, or the configured default when empty."""
    name = name or settings.CXHUB_PUSH_PROVIDER
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise DeliveryError(f"Unknown push provider {name!r}", permanent=True) from None


__all__ = [
    "FCM_SCOPE",
    "PROVIDERS",
    "PUSH_PROVIDER_CHOICES",
    "PushFailure",
    "PushMessage",
    "fcm_forget_tokens",
    "get_push_provider",
    "locmem_failures",
    "outbox",
    "sign",
]
