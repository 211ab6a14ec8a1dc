"""SMS / e-mail fallback providers against local fake servers."""

import json

import pytest

from notifications.channels.base import DeliveryError
from notifications.fallback import FallbackMessage, get_fallback_provider
from notifications.tests.fake_gateways import FakeMessageGateway


def messages(channel="sms"):
    addresses = (
        ["+5511999990001", "+5511999990002"] if channel == "sms" else ["a@x.test", "b@x.test"]
    )
    return [
        FallbackMessage(customer_id=i + 1, channel=channel, address=a, locale="pt-BR", body="Fora")
        for i, a in enumerate(addresses)
    ]


@pytest.fixture
def sms_gateway(settings):
    gateway = FakeMessageGateway("sms-secret", failed={"+5511999990002": "number blocked"})
    settings.CXHUB_SMS_PROVIDER = "webhook"
    settings.CXHUB_SMS_WEBHOOK_URL = gateway.url
    settings.CXHUB_SMS_WEBHOOK_SECRET = "sms-secret"
    yield gateway
    gateway.close()


def test_sms_webhook_posts_a_signed_batch_and_reads_failures(sms_gateway):
    failures = get_fallback_provider("sms").send(
        messages=messages(), title="Login", reference="fallback:i:sms:0"
    )
    assert sms_gateway.refused == 0
    [batch] = sms_gateway.accepted
    assert batch["channel"] == "sms" and batch["reference"] == "fallback:i:sms:0"
    assert [r["to"] for r in batch["recipients"]] == ["+5511999990001", "+5511999990002"]
    assert set(failures) == {2} and failures[2].error == "number blocked"


def test_a_gateway_that_refuses_fails_the_batch_for_good_and_a_5xx_is_retried(
    sms_gateway, settings
):
    settings.CXHUB_SMS_WEBHOOK_SECRET = "wrong"
    with pytest.raises(DeliveryError) as refused:
        get_fallback_provider("sms").send(messages=messages(), title="t", reference="r")
    assert refused.value.permanent
    settings.CXHUB_SMS_WEBHOOK_SECRET = "sms-secret"
    sms_gateway.status = 503
    with pytest.raises(DeliveryError) as busy:
        get_fallback_provider("sms").send(messages=messages(), title="t", reference="r")
    assert not busy.value.permanent


def test_email_through_an_apprise_url_with_the_address(settings, http_sink):
    settings.CXHUB_EMAIL_PROVIDER = "apprise"
    settings.CXHUB_EMAIL_APPRISE_URL = http_sink.url.replace("http://", "json://") + "/mail/{to}"
    failures = get_fallback_provider("email").send(
        messages=messages("email"), title="Login", reference="r"
    )
    assert failures == {}
    paths = sorted(r["path"] for r in http_sink.requests)
    assert paths == ["/mail/a@x.test", "/mail/b@x.test"]
    assert {json.loads(r["body"])["message"] for r in http_sink.requests} == {"Fora"}


def test_a_misconfigured_provider_fails_for_good(settings):
    settings.CXHUB_SMS_PROVIDER = "apprise"
    settings.CXHUB_SMS_APPRISE_URL = "twilio://sid:token@15551234567"  # no {to}
    with pytest.raises(DeliveryError, match="must contain"):
        get_fallback_provider("sms").send(messages=messages(), title="t", reference="r")
    with pytest.raises(DeliveryError, match="Unknown fallback channel"):
        get_fallback_provider("fax")
