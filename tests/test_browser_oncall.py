"""The analyst on call, in a real browser: the SMS's acknowledge link in Portuguese names
them, they acknowledge, and the support page says who did and who was paged by what.

Set CXHUB_SCREENSHOTS to a folder (docs/screenshots) to save the screenshots the docs link.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from actions.models import Tier
from incidents.models import Incident
from notifications import fallback
from oncall import services as oncall_services
from oncall.models import ContactMethod, Layer, LayerParticipant, Schedule
from support.roles import SUPPORT
from tests.test_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    PASSWORD,
    browser,
    log_in,
    post_triggers,
    screenshots_on_failure,
)
from tests.test_browser_support import shot, story  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture
def ana_on_call(story, settings):  # noqa: F811
    """Ana Souza on call for tier 1 (SMS now, e-mail after 5 min), through locmem gateways."""
    settings.CXHUB_SMS_PROVIDER = "locmem"
    settings.CXHUB_EMAIL_PROVIDER = "locmem"
    fallback.outbox.clear()
    ana = get_user_model().objects.create_user(
        "ana", password=PASSWORD, is_staff=True, first_name="Ana", last_name="Souza"
    )
    ana.groups.add(Group.objects.get(name=SUPPORT))
    ContactMethod.objects.create(user=ana, kind="sms", address="+5511990000001")
    ContactMethod.objects.create(
        user=ana, kind="email", address="ana@bank.example", position=1, delay_minutes=5
    )
    schedule = Schedule.objects.create(name="Plantão N1", time_zone="America/Sao_Paulo")
    layer = Layer.objects.create(
        schedule=schedule, rotation_type="weekly", start=timezone.now() - timedelta(days=1)
    )
    LayerParticipant.objects.create(layer=layer, user=ana)
    oncall_services.schedule_shifts_refresh(schedule.pk)
    Tier.objects.filter(action=story["action"], level=1).update(
        target=Tier.Target.ONCALL, schedule=schedule
    )
    return ana


def test_the_person_on_call_acknowledges_from_the_sms_and_support_sees_who(
    live_server,
    browser,  # noqa: F811
    story,  # noqa: F811
    ana_on_call,
):
    from playwright.sync_api import expect

    base = live_server.url
    post_triggers(base, story["token"], 4)  # tier 1 (Analista N1) at 4
    [sms] = [m for m in fallback.outbox if m["channel"] == "sms"]
    assert sms["to"] == ["+5511990000001"]
    match = re.search(r"Acknowledge: http://[^/]+(/incidents/\S+)", sms["bodies"]["+5511990000001"])
    assert match, sms
    path = match.group(1)
    incident = Incident.objects.get()
    phone = browser.new_context(
        locale="pt-BR", timezone_id="America/Sao_Paulo", viewport={"width": 412, "height": 860}
    ).new_page()
    desk = browser.new_context(
        locale="pt-BR", timezone_id="America/Sao_Paulo", viewport={"width": 1280, "height": 900}
    ).new_page()
    with screenshots_on_failure("acknowledge-oncall-pt-br", [phone, desk]):
        log_in(phone, base, "ana", path)
        expect(phone.locator("html")).to_have_attribute("lang", "pt-br")
        expect(phone.locator("dl")).to_contain_text("Acionamento enviado para")
        expect(phone.locator("dl")).to_contain_text("Ana Souza (de plantão)")
        expect(phone.locator("button")).to_have_text("Reconhecer como ana")
        shot(phone, "acknowledge-oncall-pt-br")
        phone.click("button")
        expect(phone.locator(".done")).to_contain_text("Reconhecido por você")

        log_in(desk, base, "ana", f"/support/incidents/{incident.pk}/")
        expect(desk.locator("#status")).to_have_text("Reconhecido")
        expect(desk.locator(".facts")).to_contain_text("Ana Souza")
        # Who was paged, by what: the SMS sent, the e-mail cancelled by the acknowledgement.
        pages = desk.locator("table").first
        expect(pages).to_contain_text("Ana Souza")
        expect(pages).to_contain_text("SMS …0001")
        expect(pages).to_contain_text("E-mail …mple")
        expect(desk.locator(".oncall")).to_contain_text("Ana Souza")
        timeline = desk.locator(".timeline")
        expect(timeline).to_contain_text("acionando Ana Souza, de plantão em Plantão N1")
        expect(timeline).to_contain_text("Ana Souza acionado(a) por SMS (nível 1)")
        expect(timeline).to_contain_text("avisado de que Ana Souza reconheceu: Ana Souza por SMS")
        shot(desk, "support-oncall-acknowledged-pt-br")
    incident.refresh_from_db()
    assert (incident.status, incident.acknowledged_by) == ("acknowledged", "ana")
    # The e-mail step never went: acknowledging cancelled it.
    assert not [m for m in fallback.outbox if m["channel"] == "email"]
