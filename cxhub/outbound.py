"""Outbound URLs may reach the internet only: no loopback, private or metadata addresses.

Channels (Apprise URLs), the push gateway and webhooks are configured by people;
without this guard a channel pointed at 127.0.0.1 or 169.254.169.254 would make
cxhub deliver a page, credentials included, to an internal service. Every URL is
checked when saved and again just before sending, after DNS resolution, so a
name that later resolves inward is refused too. `CXHUB_OUTBOUND_ALLOW` opens
chosen hosts, addresses or networks (an internal mail relay, the tests' local
servers).

The check resolves the name itself and the HTTP client resolves it again: a DNS
server that answers differently within those milliseconds is not covered here;
an egress firewall is the layer for that.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class OutboundRefused(Exception):
    """The URL's host is not allowed as a destination; the message says why."""


def _allowed(host: str, address) -> bool:
    for entry in settings.CXHUB_OUTBOUND_ALLOW:
        if entry.lower() == host.lower():
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a host name entry, compared above
    return False


def _addresses(host: str, port: int | None):
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise OutboundRefused(
            _("The host %(host)s does not resolve (%(error)s).") % {"host": host, "error": exc}
        ) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        yield getattr(address, "ipv4_mapped", None) or address


def check_host(host: str, port: int | None = None) -> None:
    """Raise OutboundRefused unless every address `host` resolves to is public or allowed."""
    if not host:
        raise OutboundRefused(_("The URL names no host."))
    host = host.strip("[]")
    for address in _addresses(host, port):
        # is_global is False for loopback, private, link-local (169.254/16, cloud
        # metadata), carrier-grade NAT, reserved, multicast and unspecified ranges.
        if not address.is_global and not _allowed(host, address):
            raise OutboundRefused(
                _(
                    "%(host)s resolves to %(address)s, an internal address: cxhub does not "
                    "send there unless CXHUB_OUTBOUND_ALLOW lists it."
                )
                % {"host": host, "address": address}
            )


def check_url(url: str) -> None:
    """Raise OutboundRefused unless an http(s) URL's host is a public or allowed destination."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused(_("Only http and https URLs are sent to."))
    check_host(parts.hostname or "", parts.port)


def apprise_destination(plugin) -> tuple[str, int | None] | None:
    """Return the (host, port) an Apprise plugin connects to, when the URL chooses it.

    Services with a fixed address (Slack, Teams, Telegram ...) take only tokens in
    their URL; plugins whose URL templates have a `{host}` (json://, ntfy://,
    mailto:// ...) connect wherever the URL says, and those are checked.
    """
    templates = getattr(plugin, "templates", ()) or ()
    if not any("{host}" in template for template in templates):
        return None
    host = getattr(plugin, "smtp_host", None) or getattr(plugin, "host", None) or ""
    return host, getattr(plugin, "port", None)


def check_apprise(target: str) -> None:
    """Raise OutboundRefused if an Apprise URL would connect to an internal address.

    A URL Apprise cannot parse raises ValueError.
    """
    import apprise

    plugin = apprise.Apprise.instantiate(target)
    if plugin is None:
        raise ValueError(_("Apprise does not understand this URL."))
    destination = apprise_destination(plugin)
    if destination is not None:
        check_host(*destination)
