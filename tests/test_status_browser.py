"""The status page in a real browser at a phone's width: readable, no overflow, no outside host."""

import shutil

import pytest
from django.utils import timezone

from actions.models import Action, Service, TriggerRule
from incidents.lifecycle.escalation import policy_of
from incidents.models import Incident
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
        policy=policy_of(action),
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
            policy=policy_of(act),
        )
    Incident.objects.create(
        action=action,
        opened_at=now - timedelta(minutes=25),
        last_occurrence_at=now,
        occurrences=9,
        policy=policy_of(action),
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
