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
