import logging

from notifications.providers.base import BasePushProvider, by_body, platform_counts

logger = logging.getLogger("cxhub.push")


class ConsolePushProvider(BasePushProvider):
    name = "console"
    label = "Console (log only)"

    def send(self, *, messages, title, reference):
        # Counts per platform only: device tokens and customer ids stay out of logs.
        for body, group in by_body(messages).items():
            logger.warning(
                "PUSH %s to %d device(s) [%s] | %s",
                reference,
                len(group),
                platform_counts(group),
                body,
            )
        return {}
