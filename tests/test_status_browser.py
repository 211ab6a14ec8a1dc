"""The status page in a real browser at a phone's width: readable, no overflow, no outside host."""

import shutil

import pytest
from django.utils import timezone

from actions.models import Action, Service, TriggerRule
from incidents.models import Incident
from incidents.models.policy import Policy
from statuspage.views import pages
from tests.test_browser import CHROMIUM, browser  # noqa: F401 (the fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is not installed"),
]


def test_status_page_fits_a_phone_and_loads_nothing_from_outside(live_server, browser):  # noqa: F811
    login = Service.objects.create(slug="login", name="Login no app", status_visible=True)
    action = Action.objects.create(
        code="0001", name="MS de Login sem resposta", push_threshold=5, status_visible=True
    )
    TriggerRule.objects.create(action=action, service=login, code="503")
    now = timezone.now()
    Incident.objects.create(
        action=action,
        opened_at=now,
        last_occurrence_at=now,
        occurrences=9,
        policy=Policy.of(action).to_json(),
    )
    pages.clear()  # a page another test rendered in this process
    page = browser.new_page(viewport={"width": 360, "height": 740})
    outside = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    page.goto(f"{live_server.url}/status/?lang=pt-br")
    assert page.locator(".summary.down").inner_text().startswith("Alguns serviços")
    assert "Indisponível desde" in page.locator("ul.services").inner_text()
    assert "Em andamento" in page.locator("ol.history").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert outside == []
    page.goto(f"{live_server.url}/status/?lang=en")
    assert "Login no app unavailable" in page.locator("ol.history").inner_text()
    page.close()


def test_history_bars_maintenance_ahead_and_an_open_incident(live_server, browser):  # noqa: F811
    """Screens for docs/status.md: an open incident, the bars, a recurring Sunday window."""
    from datetime import date, time, timedelta

    from incidents.lifecycle.recurrence import recurrence_saved
    from incidents.models import MaintenanceWindow, RecurringMaintenance

    now = timezone.now()
    login = Service.objects.create(slug="login", name="Login no app", status_visible=True)
    pix = Service.objects.create(slug="pix", name="Pix", status_visible=True)
    Service.objects.create(slug="cards", name="Cartões", status_visible=True)
    action = Action.objects.create(
        code="0001", name="MS de Login sem resposta", push_threshold=5, status_visible=True
    )
    TriggerRule.objects.create(action=action, service=login, code="503")
    pix_action = Action.objects.create(code="0002", name="Pix 5xx", status_visible=True)
    TriggerRule.objects.create(action=pix_action, service=pix, code="5xx")
    for days_ago, hours, act in [(3, 1.5, action), (17, 0.4, pix_action), (40, 5, action)]:
        opened = now - timedelta(days=days_ago)
        Incident.objects.create(
            action=act,
            opened_at=opened,
            last_occurrence_at=opened,
            resolved_at=opened + timedelta(hours=hours),
            status="resolved",
            occurrences=9,
            policy=Policy.of(act).to_json(),
        )
    Incident.objects.create(
        action=action,
        opened_at=now - timedelta(minutes=25),
        last_occurrence_at=now,
        occurrences=9,
        policy=Policy.of(action).to_json(),
    )
    sundays = RecurringMaintenance.objects.create(
        service=pix,
        rule="FREQ=WEEKLY;BYDAY=SU",
        starts_on=date(2026, 1, 1),
        start_time=time(2, 0),
        duration_minutes=120,
        reason="Atualização semanal do Pix",
        status_visible=True,
    )
    recurrence_saved(sundays)
    MaintenanceWindow.objects.create(
        service=login,
        starts_at=now + timedelta(days=2, hours=3),
        ends_at=now + timedelta(days=2, hours=4),
        reason="Troca de certificado do login",
        status_visible=True,
    )
    pages.clear()
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/status/?lang=pt-br")
    assert page.locator(".summary.down").is_visible()
    assert page.locator("ol.bars").count() == 3
    assert page.locator("ol.bars").first.locator("li").count() == 90
    ahead = page.locator("ol.ahead").inner_text()
    assert "Atualização semanal do Pix" in ahead and "Troca de certificado do login" in ahead
    # A recurring window shows once, with its next occurrences.
    assert ahead.count("Atualização semanal do Pix") == 1 and "próximas também em" in ahead
    page.screenshot(path=screenshot_path("status-open"), full_page=True)
    # A day with an incident: focus (keyboard, or a tap) shows the day and its incidents.
    day = page.locator('ol.bars[aria-label^="Login no app"] li[tabindex]').first
    tip = day.locator(".tip")
    assert not tip.is_visible()
    day.focus()
    assert tip.is_visible() and "Indisponível de" in tip.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 900, "height": 900})
    day.focus()
    page.locator("ul.services").screenshot(path=screenshot_path("status-history"))
    page.locator("ol.ahead").screenshot(path=screenshot_path("status-maintenance"))
    page.close()


def screenshot_path(name):
    """Return where to save a screenshot: CXHUB_SCREENSHOTS (docs/screenshots) or artifacts/."""
    import os
    from pathlib import Path

    from tests.test_browser import ARTIFACTS

    folder = Path(os.environ.get("CXHUB_SCREENSHOTS") or ARTIFACTS)
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / f"{name}.png")


def test_a_subscriber_confirms_hears_manages_and_leaves_with_one_click(
    live_server,
    browser,  # noqa: F811
    smtp_server,
    settings,
):
    """The essential path in Chromium, every e-mail through a real SMTP server (aiosmtpd)."""
    import re
    import urllib.request

    from incidents import services as incidents
    from incidents.models import Integration
    from notifications.models import Delivery
    from notifications.services import delivery_send
    from notifications.tests.helpers import post
    from statuspage.models import Subscriber
    from statuspage.notices import incident_notices, notice_fan_out

    def send_all():
        pending = Delivery.objects.filter(
            purpose__in=["status_confirm", "status_notice"], status="pending"
        )
        for pk in pending.values_list("pk", flat=True):
            delivery_send(pk)

    def notices_for(incident_id):
        for notice in incident_notices(incident_id):
            notice_fan_out(notice.pk)
        send_all()

    settings.CXHUB_BASE_URL = live_server.url
    login = Service.objects.create(slug="login", name="Login no app", status_visible=True)
    Service.objects.create(slug="pix", name="Pix", status_visible=True)
    action = Action.objects.create(
        code="0001", name="MS de Login sem resposta", push_threshold=5, status_visible=True
    )
    TriggerRule.objects.create(action=action, service=login, code="503")
    integration = Integration.objects.create(name="m", token_hash="h")
    pages.clear()
    # A reader in Manaus: the browser suggests its zone in the form.
    page = browser.new_page(locale="pt-BR", timezone_id="America/Manaus")
    page.goto(f"{live_server.url}/status/?lang=pt-br")
    form = page.locator("form.subscribe")
    form.locator("input[name=email]").fill("ana@example.com")
    form.locator("select[name=language]").select_option("pt-br")
    assert form.locator("select[name=time_zone]").input_value() == "America/Manaus"
    form.get_by_label("Login no app").check()
    form.locator("button[type=submit]").click()
    assert "link de confirmação está a caminho" in page.locator("main").inner_text()
    send_all()
    (confirmation,) = smtp_server.to("ana@example.com")
    page.goto(re.search(r"http://\S+/status/confirm/\S+/", confirmation.get_content()).group(0))
    page.get_by_role("button").click()
    assert "Sua inscrição está confirmada" in page.locator("main").inner_text()
    subscriber = Subscriber.objects.get()
    assert (subscriber.time_zone, subscriber.whole_page) == ("America/Manaus", False)

    incident = post(integration)  # the push threshold: customers can see it
    notices_for(incident.pk)
    notice = smtp_server.to("ana@example.com")[-1]
    assert notice["Subject"].strip() == "Login no app indisponível"
    assert "UTC-0400" in notice.get_content()  # Manaus, with its offset
    # The e-mail's manage link: the subscription shown and changed.
    page.goto(re.search(r"http://\S+/status/manage/\S+/", notice.get_content()).group(0))
    assert page.locator("select[name=time_zone]").input_value() == "America/Manaus"
    assert page.get_by_label("Login no app").is_checked()
    page.get_by_label("Pix").check()
    page.locator("form.manage button[type=submit]").click()
    assert page.locator(".saved").is_visible()
    assert sorted(s.slug for s in Subscriber.objects.get().services.all()) == ["login", "pix"]

    # The mail client's one-click button (RFC 8058): a POST, no cookie, no CSRF token.
    one_click = re.fullmatch(r"<(.+)>", notice["List-Unsubscribe"].strip()).group(1)
    request = urllib.request.Request(  # noqa: S310 (the live test server's URL)
        one_click,
        data=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request) as answer:  # noqa: S310
        assert answer.status == 200
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    notices_for(incident.pk)
    assert len(smtp_server.to("ana@example.com")) == 2  # no all-clear after leaving
    page.close()
