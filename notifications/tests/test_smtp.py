"""E-mail through a real SMTP server: CXHUB_EMAIL_PROVIDER=smtp and EMAIL_URL."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

from notifications.errors import DeliveryError
from notifications.fallback import FallbackMessage, get_fallback_provider
from notifications.models import Customer, PushRecord
from notifications.tests.helpers import post, send_pending


def message(customer_id, address, **extra):
    return FallbackMessage(
        customer_id=customer_id,
        channel="email",
        address=address,
        locale="pt-BR",
        body="Oi",
        **extra,
    )


def test_the_smtp_provider_sends_each_message_with_its_subject_and_headers(smtp_server):
    failures = get_fallback_provider("email").send(
        messages=[
            message(1, "a@example.com", subject="Assunto", headers={"List-Unsubscribe": "<x>"}),
            message(2, "b@example.com"),
        ],
        title="cxhub",
        reference="ref-1",
    )
    assert failures == {}
    first, second = smtp_server.to("a@example.com"), smtp_server.to("b@example.com")
    assert first[0]["Subject"] == "Assunto" and first[0]["List-Unsubscribe"] == "<x>"
    assert first[0]["X-Cxhub-Reference"] == "ref-1"
    assert first[0]["From"] == django_settings.DEFAULT_FROM_EMAIL
    assert second[0]["Subject"] == "cxhub" and second[0].get_content().strip() == "Oi"


def test_a_refused_recipient_fails_alone_and_for_good(smtp_server):
    smtp_server.refuse.add("gone@example.com")
    failures = get_fallback_provider("email").send(
        messages=[message(1, "gone@example.com"), message(2, "ok@example.com")],
        title="t",
        reference="r",
    )
    assert list(failures) == [1] and not failures[1].transient
    assert len(smtp_server.to("ok@example.com")) == 1


def test_an_unreachable_server_is_a_transient_error(smtp_server):
    smtp_server.down()
    with pytest.raises(DeliveryError) as error:
        get_fallback_provider("email").send(
            messages=[message(1, "a@example.com")], title="t", reference="r"
        )
    assert not error.value.permanent and "unreachable" in error.value.message


def test_the_smtp_server_passes_the_outbound_guard(smtp_server, settings):
    settings.CXHUB_OUTBOUND_ALLOW = []
    with pytest.raises(DeliveryError) as error:
        get_fallback_provider("email").send(
            messages=[message(1, "a@example.com")], title="t", reference="r"
        )
    assert error.value.permanent and "CXHUB_OUTBOUND_ALLOW" in error.value.message
    assert smtp_server.messages == []


def test_the_customer_fallback_email_goes_through_smtp(scenario, integration, smtp_server):
    scenario["action"].push_fallback = "email"
    scenario["action"].save()
    c4 = Customer.objects.create(external_id="c4", email="c4@example.com", email_consent=True)
    c4.services.add(scenario["login"])
    post(integration)
    send_pending("push")
    send_pending("fallback")
    (mail,) = smtp_server.to("c4@example.com")
    assert mail.get_content().startswith("Infelizmente")
    record = PushRecord.objects.get(channel="email")
    assert (record.status, record.provider) == ("sent", "email:smtp")


def test_smtp_is_for_email_only(settings):
    settings.CXHUB_SMS_PROVIDER = "smtp"
    with pytest.raises(DeliveryError):
        get_fallback_provider("sms")


def start_with(**env):
    """Import the settings in a fresh process; return (exit code, stderr)."""
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "cxhub.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return run.returncode, run.stderr


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"EMAIL_URL": "smtp-ish://127.0.0.1"}, "EMAIL_URL must be smtp://host:port"),
        (
            {"CXHUB_EMAIL_PROVIDER": "smtp", "EMAIL_URL": "consolemail://"},
            "CXHUB_EMAIL_PROVIDER=smtp needs EMAIL_URL",
        ),
        ({"CXHUB_EMAIL_PROVIDER": "smtp", "EMAIL_URL": "smtp://"}, "needs EMAIL_URL"),
        ({"CXHUB_EMAIL_PROVIDER": "mailgun"}, "CXHUB_EMAIL_PROVIDER must be"),
    ],
)
def test_a_bad_email_configuration_fails_at_startup(env, says):
    code, stderr = start_with(**env)
    assert code != 0 and "ImproperlyConfigured" in stderr and says in stderr


def test_an_smtp_url_configures_django_smtp_backend():
    code, stderr = start_with(
        CXHUB_EMAIL_PROVIDER="smtp", EMAIL_URL="smtp+tls://user:pw@mail.example.com:587"
    )
    assert code == 0, stderr
