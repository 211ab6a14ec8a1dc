"""What a responder and a customer-facing analyst meet first, in a real browser: the
acknowledge link in Portuguese and their own clock, a customer whose push waits for their
morning, and a reopen that pages and pushes again.

Set CXHUB_SCREENSHOTS to a folder (docs/screenshots) to save the screenshots the docs link.
"""

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from incidents.models import Incident
from incidents.services import incident_resolve
from notifications.channels import locmem
from notifications.models import Customer, Delivery, PushRecord
from tests.test_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
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


def ack_path(body: str) -> str:
    match = re.search(r"Acknowledge: http://[^/]+(/incidents/\S+)", body)
    assert match, body
    return match.group(1)


def test_the_n1_analyst_acknowledges_in_portuguese_on_their_clock(
    live_server,
    browser,  # noqa: F811
    story,  # noqa: F811
):
    from playwright.sync_api import expect

    base = live_server.url
    locmem.outbox.clear()
    post_triggers(base, story["token"], 4)  # tier 1 (Analista N1) at 4
    path = ack_path(next(m for m in locmem.outbox if m["target"] == "n1")["body"])
    context = browser.new_context(
        locale="pt-BR", timezone_id="America/Sao_Paulo", viewport={"width": 412, "height": 860}
    )
    page = context.new_page()
    incident = Incident.objects.get()
    with screenshots_on_failure("acknowledge-pt-br", [page]):
        log_in(page, base, "sam", path)
        expect(page.locator("html")).to_have_attribute("lang", "pt-br")
        expect(page.locator("html")).to_have_attribute("data-time-zone", "America/Sao_Paulo")
        opened = incident.opened_at.astimezone(ZoneInfo("America/Sao_Paulo"))
        expect(page.locator("dl")).to_contain_text(f"{opened:%Y-%m-%d %H:%M:%S} UTC-0300")
        expect(page.locator("dl")).to_contain_text("Aberto")
        expect(page.locator("button")).to_have_text("Reconhecer como sam")
        page.fill("#note", "olhando")
        shot(page, "acknowledge-pt-br")
        page.click("button")
        expect(page.locator(".done")).to_contain_text("Reconhecido por você")
        page.goto(f"{base}{path}x")
        expect(page.locator("h1")).to_have_text("Este link de reconhecimento não é válido")
    incident.refresh_from_db()
    assert (incident.status, incident.acknowledged_by) == ("acknowledged", "sam")


def test_support_sees_the_push_held_for_the_customers_morning(
    live_server,
    browser,  # noqa: F811
    story,  # noqa: F811
    settings,
):
    from playwright.sync_api import expect

    # Night in Tokyo now (a window around the present there), day in Sao Paulo.
    tokyo = datetime.now(ZoneInfo("Asia/Tokyo"))
    settings.CXHUB_QUIET_WINDOW = (
        (tokyo - timedelta(hours=1)).time().replace(second=0, microsecond=0),
        (tokyo + timedelta(hours=2)).time().replace(second=0, microsecond=0),
    )
    Customer.objects.filter(external_id="c1").update(time_zone="Asia/Tokyo", locale="en")
    Customer.objects.filter(external_id="c2").update(time_zone="America/Sao_Paulo")
    base = live_server.url
    post_triggers(base, story["token"], 3)  # the push at 3
    held = Delivery.objects.get(purpose="push", quiet_hours="held")
    due = held.due_at.astimezone(ZoneInfo("America/Sao_Paulo"))
    page = browser.new_context(
        locale="en-US", timezone_id="America/Sao_Paulo", viewport={"width": 1280, "height": 900}
    ).new_page()
    with screenshots_on_failure("customer-lookup-held", [page]):
        log_in(page, base, "sam", "/support/customers/?q=c1")
        expect(page.locator("#customer")).to_have_text("c1")
        expect(page.locator("table.pushes tr.p-held")).to_have_count(2)
        expect(page.locator("table.pushes")).to_contain_text(
            "quiet hours: waits for the customers' morning"
        )
        expect(page.locator("table.pushes")).to_contain_text(
            f"goes at {due:%Y-%m-%d %H:%M:%S} UTC-0300"
        )
        expect(page.locator("body")).not_to_contain_text("Nothing was pushed")
        shot(page, "customer-lookup-held")
        page.click("article.story h3 a")
        expect(page.locator("body")).to_contain_text("quiet hours: waits for the customers")
        expect(page.locator("body")).to_contain_text(f"goes at {due:%Y-%m-%d %H:%M} UTC-0300")


def test_a_reopen_pages_n1_again_and_tells_the_customers(
    live_server,
    browser,  # noqa: F811
    story,  # noqa: F811
    settings,
):
    from playwright.sync_api import expect

    settings.CXHUB_QUIET_WINDOW = None
    action = story["action"]
    action.flap_minutes = 5
    action.save()
    base = live_server.url
    locmem.outbox.clear()
    post_triggers(base, story["token"], 4)  # push at 3, N1 at 4
    incident = Incident.objects.get()
    incident_resolve(incident_id=incident.pk, by="sam", note="pods restarted")
    assert PushRecord.objects.filter(purpose="all_clear", status="sent").count() == 3
    post_triggers(base, story["token"], 1)  # within the flap window: reopens
    again = [m for m in locmem.outbox if m["target"] == "n1" and "reopened" in m["title"]]
    assert len(again) == 1, locmem.outbox
    assert PushRecord.objects.filter(purpose="outage", generation=1, status="sent").count() == 3
    page = browser.new_context(
        locale="en-US", timezone_id="America/Sao_Paulo", viewport={"width": 1280, "height": 900}
    ).new_page()
    with screenshots_on_failure("support-reopen", [page]):
        log_in(page, base, "sam", f"/support/incidents/{incident.pk}/")
        expect(page.locator("#status")).to_have_text("Open")
        # Told twice, still 3 devices of 2 customers.
        expect(page.locator("#reach")).to_have_text("pushed to 3 devices of 2 customers")
        expect(page.locator("table").first).to_contain_text("reopened")
        expect(page.locator(".timeline")).to_contain_text("Paged again: reopened")
        expect(page.locator(".timeline")).to_contain_text("told it is down again")
        expect(page.locator("svg .marker.reopened")).to_have_count(1)
        shot(page, "support-reopen")
