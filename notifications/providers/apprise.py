from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from django.conf import settings

from notifications.errors import outbound_check, outbound_guarded
from notifications.providers.base import BasePushProvider, DeliveryError, PushFailure


class ApprisePushProvider(BasePushProvider):
    """Send each device its push through Apprise (ntfy, Pushover, OneSignal, ...).

    CXHUB_PUSH_APPRISE_URL is an Apprise URL with a `{token}` placeholder that
    the device token fills, e.g. `ntfys://ntfy.example.com/{token}`.
    """

    name = "apprise"
    label = "Apprise (ntfy, Pushover, ...)"

    def send(self, *, messages, title, reference):
        import apprise

        template = settings.CXHUB_PUSH_APPRISE_URL
        if "{token}" not in template:
            raise DeliveryError(
                "CXHUB_PUSH_APPRISE_URL must contain {token}, e.g. ntfys://host/{token}",
                permanent=True,
            )
        outbound_check(template.replace("{token}", "token"), apprise=True)

        def one(message):
            notifier = apprise.Apprise()
            if not notifier.add(template.replace("{token}", quote(message.device.token, safe=""))):
                return PushFailure("Not a valid Apprise URL for this token")
            try:
                with outbound_guarded():
                    delivered = notifier.notify(title=title, body=message.body)
            except DeliveryError as refused:
                return PushFailure(refused.message)
            if delivered:
                return None
            return PushFailure("Apprise could not deliver", transient=True)

        with ThreadPoolExecutor(max_workers=settings.CXHUB_PUSH_CONCURRENCY) as pool:
            results = list(pool.map(one, messages))
        return {m.device.pk: f for m, f in zip(messages, results, strict=True) if f}
