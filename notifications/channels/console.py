import logging

from notifications.channels.base import BaseChannel

logger = logging.getLogger("cxhub.console")


class ConsoleChannel(BaseChannel):
    """Log exactly what would be sent and to whom: the local default."""

    kind = "console"
    label = "Console (log only)"

    def send(self, *, target, title, body, key=""):
        logger.warning("PAGE to %s | %s | %s", target or "console", title, body)
