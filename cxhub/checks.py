"""Startup checks: a set CXHUB_BASE_URL that points at a local port nobody serves."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Warning

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104 (names, not a bind)


def base_url_warnings(**kwargs) -> list[Warning]:
    """Warn when the base URL names this machine on a port other than CXHUB_PORT.

    A public base URL (a proxy in front) may use any port; a local one on the wrong
    port makes every link in pages and messages dead.
    """
    parts = urlsplit(settings.CXHUB_BASE_URL)
    if parts.hostname not in LOCAL_HOSTS:
        return []
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if port == settings.CXHUB_PORT:
        return []
    return [
        Warning(
            f"CXHUB_BASE_URL {settings.CXHUB_BASE_URL} points at port {port}, but cxhub "
            f"serves on CXHUB_PORT {settings.CXHUB_PORT}: links in pages and messages "
            "will not open.",
            hint="Unset CXHUB_BASE_URL to derive it from CXHUB_PORT, or make them agree.",
            id="cxhub.W001",
        )
    ]
