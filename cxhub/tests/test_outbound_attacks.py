"""The outbound guard as an attacker probes it: every Apprise plugin, redirects, verify=no.

A local listener stands for an internal service: whatever the attack, it must receive nothing.
"""

import base64
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cxhub import outbound
from notifications.channels import get_channel
from notifications.channels.base import DeliveryError


class Listener:
    """A TCP listener on 127.0.0.1 that counts every connection made to it."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def closed(settings):
    settings.CXHUB_OUTBOUND_ALLOW = []


def zulip_to(port):
    return f"zulip://bot@127.0.0.1%3A{port}%2Finternal-admin%2Fdelete-all%3F/{'a' * 32}?verify=no"


def test_zulip_organization_holding_a_loopback_host_is_refused_at_save(closed, listener):
    with pytest.raises(outbound.OutboundRefused, match="internal address"):
        outbound.check_apprise(zulip_to(listener.port))
    assert listener.connections == 0


def test_zulip_organization_holding_a_loopback_host_is_refused_at_send(closed, listener):
    with pytest.raises(DeliveryError) as error:
        get_channel("apprise").send(target=zulip_to(listener.port), title="t", body="b")
    assert error.value.permanent
    assert listener.connections == 0


def test_acs_endpoint_in_the_path_is_checked(closed, listener, fake_dns):
    # The endpoint is a path segment naming an internal host.
    fake_dns["acs.bank.internal"] = "127.0.0.1"
    key = base64.b64encode(b"k" * 32).decode()
    target = f"acs://cx@bank.example/{key}/acs.bank.internal/someone@bank.example"
    with pytest.raises(outbound.OutboundRefused, match="internal address"):
        outbound.check_apprise(target)
    with pytest.raises(DeliveryError):
        get_channel("apprise").send(target=target, title="t", body="b")
    assert listener.connections == 0


def test_a_plugin_whose_destination_cannot_be_seen_is_refused(closed):
    # rsyslog speaks UDP; desktop notifiers send nothing over the network at all.
    for target in ("rsyslog://127.0.0.1", "dbus://"):
        with pytest.raises((outbound.OutboundRefused, ValueError)):
            outbound.check_apprise(target)


def test_verify_no_is_refused_unless_the_destination_is_allow_listed(settings, listener):
    settings.CXHUB_OUTBOUND_ALLOW = []
    with pytest.raises(outbound.OutboundRefused, match="verify=no"):
        outbound.check_apprise("jsons://93.184.215.14/hook?verify=no")
    settings.CXHUB_OUTBOUND_ALLOW = ["127.0.0.1"]
    outbound.check_apprise(f"jsons://127.0.0.1:{listener.port}/hook?verify=no")
    assert listener.connections == 0


class Redirector:
    """An allowed destination that answers every POST with a 307 to `location`."""

    def __init__(self, location):
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                outer.hits += 1
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(307)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def redirector(listener):
    server = Redirector(f"http://127.0.0.1:{listener.port}/internal")
    yield server
    server.close()


def test_a_redirect_to_an_internal_address_is_not_followed_by_a_channel(
    settings, listener, redirector
):
    # "localhost" is allowed (by name), 127.0.0.1 is not: the 307 leads there.
    settings.CXHUB_OUTBOUND_ALLOW = ["localhost"]
    target = f"json://localhost:{redirector.port}/page"
    outbound.check_apprise(target)
    with pytest.raises(DeliveryError) as error:
        get_channel("apprise").send(target=target, title="t", body="secret page")
    assert error.value.permanent and "127.0.0.1" in error.value.message
    assert redirector.hits == 1
    assert listener.connections == 0


def test_a_redirect_is_not_followed_by_the_push_gateway(settings, listener, redirector):
    from notifications.providers.webhook import signed_post

    settings.CXHUB_OUTBOUND_ALLOW = ["localhost"]
    with pytest.raises(DeliveryError):
        signed_post(
            f"http://localhost:{redirector.port}/push",
            {"a": 1},
            secret="s",
            reference="r",
            gateway="Push gateway",
        )
    assert redirector.hits == 1
    assert listener.connections == 0


def test_fcm_endpoints_pass_the_guard(closed, settings, tmp_path, listener):
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from notifications.providers.fcm import FcmPushProvider

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account = tmp_path / "sa.json"
    account.write_text(
        json.dumps({"project_id": "p", "client_email": "a@p.iam", "private_key": pem})
    )
    settings.CXHUB_FCM_CREDENTIALS_FILE = str(account)
    settings.CXHUB_FCM_TOKEN_URI = f"http://127.0.0.1:{listener.port}/token"
    settings.CXHUB_FCM_BASE_URL = f"http://127.0.0.1:{listener.port}"
    with pytest.raises(DeliveryError) as error:
        FcmPushProvider().send(messages=[], title="t", reference="r")
    assert error.value.permanent and "internal address" in error.value.message
    assert listener.connections == 0
