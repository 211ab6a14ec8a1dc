"""Outbound URLs may not resolve to internal addresses unless CXHUB_OUTBOUND_ALLOW opens them."""

import pytest

from cxhub import outbound
from notifications.channels import get_channel
from notifications.channels.base import DeliveryError
from notifications.providers import WebhookPushProvider


@pytest.fixture
def closed(settings):
    settings.CXHUB_OUTBOUND_ALLOW = []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://172.16.5.5/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "http://2130706433/",  # 127.0.0.1 written as a number
    ],
)
def test_internal_destinations_are_refused(closed, url):
    with pytest.raises(outbound.OutboundRefused, match="internal address"):
        outbound.check_url(url)


def test_public_address_passes_and_other_schemes_are_refused(closed):
    outbound.check_url("https://93.184.215.14/hook")
    with pytest.raises(outbound.OutboundRefused, match="http and https"):
        outbound.check_url("file:///etc/passwd")


def test_unresolvable_host_is_refused(closed):
    with pytest.raises(outbound.OutboundRefused, match="does not resolve"):
        outbound.check_url("http://no-such-host.invalid/")


def test_allowlist_opens_hosts_and_networks(settings):
    settings.CXHUB_OUTBOUND_ALLOW = ["localhost", "10.0.0.0/8"]
    outbound.check_url("http://localhost:9/x")
    outbound.check_url("http://10.9.9.9/x")
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url("http://192.168.1.1/x")


def test_apprise_urls_are_checked_where_the_plugin_connects(closed, fake_dns):
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_apprise("json://user:pw@127.0.0.1:8080/path")
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_apprise("mailto://user:pw@169.254.169.254")
    # Slack's URL holds tokens only: the plugin connects to Slack itself, a public host.
    fake_dns["hooks.slack.com"] = "93.184.215.14"
    outbound.check_apprise("slack://T000/B000/XXXXsupersecretTOKEN1234")
    with pytest.raises(ValueError, match="does not understand"):
        outbound.check_apprise("bogus://x")


def test_send_time_refuses_a_channel_pointed_at_loopback(closed, http_sink):
    target = http_sink.url.replace("http://", "json://user:secret@") + "/page"
    with pytest.raises(DeliveryError) as error:
        get_channel("apprise").send(target=target, title="t", body="b")
    assert error.value.permanent and "internal address" in error.value.message
    assert "secret" not in error.value.message
    assert http_sink.requests == []


def test_push_gateway_on_an_internal_address_is_refused(closed, settings):
    settings.CXHUB_PUSH_WEBHOOK_URL = "http://169.254.169.254/push"
    with pytest.raises(DeliveryError, match="internal address") as error:
        WebhookPushProvider().send(messages=[], title="t", reference="r")
    assert error.value.permanent


@pytest.mark.parametrize("provider", ["webhook", "apprise"])
def test_sms_gateway_on_an_internal_address_is_refused(closed, settings, http_sink, provider):
    from notifications.fallback import PROVIDERS, FallbackMessage

    settings.CXHUB_SMS_WEBHOOK_URL = f"{http_sink.url}/sms"
    settings.CXHUB_SMS_APPRISE_URL = http_sink.url.replace("http://", "json://") + "/{to}"
    message = FallbackMessage(
        customer_id=1, channel="sms", address="+5511999990000", locale="pt-BR", body="b"
    )
    with pytest.raises(DeliveryError, match="internal address") as error:
        PROVIDERS[provider]().send(messages=[message], title="t", reference="r")
    assert error.value.permanent
    assert http_sink.requests == []
