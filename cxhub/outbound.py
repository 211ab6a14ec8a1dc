"""Outbound URLs may reach the internet only: no loopback, private or metadata addresses.

Channels (Apprise URLs), the push gateway, FCM and webhooks are configured by
people; without this guard a channel pointed at 127.0.0.1 or 169.254.169.254
would make cxhub deliver a page, credentials included, to an internal service.
`CXHUB_OUTBOUND_ALLOW` opens chosen hosts, addresses or networks (an internal
mail relay, the tests' local servers).

The guard works where the connection is made, not on the URL's text: inside
`guarded()`, every TCP connection and UDP datagram of the thread passes
`check_host` first, and a connection goes to the addresses that were checked,
never to a second DNS answer. So a redirect to an internal address, an Apprise
plugin that builds its host from a path segment or an organization name (zulip,
acs), and a token endpoint are all judged by where they really connect.
`check_apprise` asks a plugin where it would connect by letting it try with
every connection refused (`probe`): nothing leaves the machine, and a plugin
that tries nothing the guard can see is refused.
"""

import contextvars
import ipaddress
import socket
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class OutboundRefused(Exception):
    """The destination is not allowed; the message says why.

    `unresolved` is true when the name did not resolve: at send time that may
    pass (a DNS hiccup), so it is not a final refusal.
    """

    def __init__(self, message, *, unresolved=False):
        super().__init__(message)
        self.unresolved = unresolved


class _Probed(Exception):
    """A probe reached the network: the attempt is recorded, nothing is connected."""


class _Scope:
    """One guarded() or probe() block: its mode and what its connections met."""

    def __init__(self, mode):
        self.mode = mode
        self.refusals: list[str] = []
        self.seen: list[tuple[str, int]] = []


# A context variable, not a thread-local: Apprise runs each service in a pool
# thread with a copy of the caller's context, and the guard must follow it.
_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("outbound", default=None)
# Set while connecting to addresses check_host passed, in this thread only.
_local = threading.local()
_install_lock = threading.Lock()
_installed = False


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
            _("The host %(host)s does not resolve (%(error)s).") % {"host": host, "error": exc},
            unresolved=True,
        ) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        yield getattr(address, "ipv4_mapped", None) or address, info


def check_host(host: str, port: int | None = None) -> list:
    """Raise OutboundRefused unless every address `host` resolves to is public or allowed.

    Return the getaddrinfo entries checked, to connect to those and no others.
    """
    if not host:
        raise OutboundRefused(_("The URL names no host."))
    host = host.strip("[]")
    checked = []
    for address, info in _addresses(host, port):
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
        checked.append(info)
    return checked


def allow_listed(host: str, port: int | None = None) -> bool:
    """Return whether CXHUB_OUTBOUND_ALLOW names `host` or holds every address it resolves to."""
    host = host.strip("[]")
    try:
        return all(_allowed(host, address) for address, _info in _addresses(host, port))
    except OutboundRefused:
        return any(entry.lower() == host.lower() for entry in settings.CXHUB_OUTBOUND_ALLOW)


def check_url(url: str) -> None:
    """Raise OutboundRefused unless an http(s) URL's host is a public or allowed destination."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused(_("Only http and https URLs are sent to."))
    check_host(parts.hostname or "", parts.port)


# The connection seam. Only threads inside guarded() or probe() are affected;
# everything else (the database, the broker) connects as it always did.


def _current():
    if getattr(_local, "inside", False):
        return None  # a connection to addresses check_host already passed
    return _scope.get()


def _refuse(scope: _Scope, refused: OutboundRefused):
    scope.refusals.append(str(refused))
    # An OSError is what every HTTP and SMTP client expects from a failed connect.
    raise ConnectionRefusedError(str(refused))


def _judged_create_connection(original):
    def create_connection(address, *args, **kwargs):
        scope = _current()
        if scope is None:
            return original(address, *args, **kwargs)
        host, port = address[0], address[1]
        if scope.mode == "probe":
            scope.seen.append((host.strip("[]"), port))
            raise _Probed(host)
        try:
            infos = check_host(host, port)
        except OutboundRefused as refused:
            if refused.unresolved:
                raise OSError(str(refused)) from None
            _refuse(scope, refused)
        error = None
        _local.inside = True
        try:
            for info in infos:
                try:
                    return original((info[4][0], port), *args, **kwargs)
                except OSError as exc:
                    error = exc
        finally:
            _local.inside = False
        raise error or OSError(f"cannot connect to {host}")

    return create_connection


def _judged_socket_method(name, original):
    # A plugin that opens its own socket (UDP syslog, a raw client) still
    # passes here with the address it connects or sends to.
    def method(self, *args):
        scope = _current()
        if scope is None:
            return original(self, *args)
        address = args[-1]
        if not isinstance(address, tuple):
            _refuse(scope, OutboundRefused(_("cxhub sends only over TCP or UDP to checked hosts.")))
        if scope.mode == "probe":
            scope.seen.append((address[0], address[1]))
            raise _Probed(address[0])
        try:
            check_host(address[0], address[1])
        except OutboundRefused as refused:
            _refuse(scope, refused)
        return original(self, *args)

    method.__name__ = name
    return method


def install() -> None:
    """Put the guard between this process's clients and the network (once, idempotent)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        import urllib3.util.connection

        socket.create_connection = _judged_create_connection(socket.create_connection)
        urllib3.util.connection.create_connection = _judged_create_connection(
            urllib3.util.connection.create_connection
        )
        for name in ("connect", "connect_ex", "sendto"):
            setattr(socket.socket, name, _judged_socket_method(name, getattr(socket.socket, name)))
        _installed = True


class Guard(_Scope):
    """What the connections inside `guarded()` met: `refused` is the first refusal."""

    @property
    def refused(self) -> str:
        return self.refusals[0] if self.refusals else ""


@contextmanager
def guarded():
    """Check every connection made inside the block (and its Apprise threads); yield a Guard."""
    install()
    guard = Guard("send")
    token = _scope.set(guard)
    try:
        yield guard
    finally:
        _scope.reset(token)


def probe(plugin) -> list[tuple[str, int]]:
    """Return the (host, port) pairs an Apprise plugin tries to connect to; none is reached."""
    install()
    scope = _Scope("probe")
    token = _scope.set(scope)
    # A plugin failing anywhere in a probe connects nowhere: what it tried is in `seen`.
    try:
        plugin.notify(body="cxhub outbound check", title="cxhub")
    except Exception:  # noqa: BLE001, S110
        pass
    finally:
        _scope.reset(token)
    return list(dict.fromkeys(scope.seen))


def check_apprise(target: str) -> None:
    """Raise OutboundRefused unless every host an Apprise URL connects to is allowed.

    The plugin is asked where it connects (`probe`), so services whose host comes
    from a path segment or an organization name are judged like json://host.
    `verify=no` passes only for allow-listed destinations. A URL Apprise cannot
    parse raises ValueError.
    """
    import apprise

    plugin = apprise.Apprise.instantiate(target, suppress_exceptions=True)
    if plugin is None:
        raise ValueError(_("Apprise does not understand this URL."))
    destinations = probe(plugin)
    if not destinations:
        raise OutboundRefused(
            _(
                "cxhub cannot see where %(service)s sends (it tried no network connection "
                "with this URL), so it does not send there."
            )
            % {"service": getattr(plugin, "service_name", target.partition("://")[0])}
        )
    for host, port in destinations:
        check_host(host, port)
    if getattr(plugin, "verify_certificate", True) is False and not all(
        allow_listed(host, port) for host, port in destinations
    ):
        raise OutboundRefused(
            _(
                "verify=no turns certificate checks off: cxhub allows it only for a "
                "destination CXHUB_OUTBOUND_ALLOW lists."
            )
        )
