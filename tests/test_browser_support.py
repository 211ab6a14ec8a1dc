"""The issue-12 screens in a real browser: resolve with confirmation, customer lookup,
reports, and triage to a working action in one confirmation.

Set CXHUB_SCREENSHOTS to a folder (docs/screenshots) to save the screenshots the README
links; by default they go to artifacts/ (gitignored).
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from actions.models import Action, Service, Tier, TriggerRule
from incidents.models import Incident, TriageAlert
from notifications.channels import locmem
from notifications.models import Channel, Customer, Delivery, Device, Team
from support.roles import CX_STAFF, SUPPORT
from tests.test_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    CHROMIUM,
    PASSWORD,
    browser,
    log_in,
    post_triggers,
    screenshots_on_failure,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


def shot(page, name):
    folder = Path(os.environ.get("CXHUB_SCREENSHOTS") or ARTIFACTS)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.fixture
def story(settings, eager_celery):
    """The login action with a push at 3 and two tiers, customers, one user of each role."""
    settings.CXHUB_SUPPORT_REFRESH_SECONDS = 60
    login = Service.objects.create(slug="login", name="Login no app")
    teams = {}
    for slug, name in [("n1", "Analista N1"), ("n2", "Analista N2"), ("triage", "Triagem")]:
        teams[slug] = Team.objects.create(slug=slug, name=name)
        Channel.objects.create(team=teams[slug], kind="locmem", target=slug)
    action = Action.objects.create(code="0001", name="MS de Login sem resposta", push_threshold=3)
    TriggerRule.objects.create(action=action, service=login, code="5xx")
    Tier.objects.create(
        action=action, level=1, name="Analista N1", team=teams["n1"], after_occurrences=4
    )
    Tier.objects.create(
        action=action, level=2, name="Analista N2", team=teams["n2"], after_occurrences=8
    )
    for external_id, tokens in [
        ("c1", [("android", "fcm-c1-7d41a9e2"), ("ios", "apns-c1-55b0c3f8")]),
        ("c2", [("android", "fcm-c2-0a9e11d4")]),
    ]:
        customer = Customer.objects.create(external_id=external_id)
        customer.services.add(login)
        for platform, token in tokens:
            Device.objects.create(customer=customer, platform=platform, token=token)
    from incidents.models import Integration

    integration = Integration(name="monitoring")
    token = integration.set_new_token()
    integration.save()
    for username, role in [("carla", CX_STAFF), ("sam", SUPPORT)]:
        user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=role))
    return {"token": token, "action": action}


def add_history(story) -> int:
    """Record eight past incidents of login and pix over three weeks; return how many."""
    from django.utils import timezone

    from incidents.models import Report, Trigger
    from notifications.models import PushRecord

    now = timezone.now()
    pix = Service.objects.create(slug="pix", name="Pix")
    pix_action = Action.objects.create(code="0002", name="Pix fora do ar", push_threshold=5)
    TriggerRule.objects.create(action=pix_action, service=pix, code="*")
    n1, n2 = Team.objects.get(slug="n1"), Team.objects.get(slug="n2")
    device = Device.objects.get(token="fcm-c2-0a9e11d4")
    # (days ago, action, service, minutes to N1's page, to acknowledge, to resolve, N2 paged)
    past = [
        (2, story["action"], "login", 1, 4, 25, False),
        (4, pix_action, "pix", 2, 9, 40, True),
        (6, story["action"], "login", 1, 3, 12, False),
        (9, story["action"], "login", 1, 6, 30, True),
        (11, pix_action, "pix", 3, 15, 95, True),
        (15, story["action"], "login", 1, 2, 18, False),
        (18, pix_action, "pix", 2, 7, 35, False),
        (20, story["action"], "login", 1, 5, 22, False),
    ]
    for days, action, service, page_at, ack_at, fix_at, n2_paged in past:
        opened = now - timedelta(days=days, hours=3)
        incident = Incident.objects.create(
            action=action,
            status=Incident.Status.RESOLVED,
            occurrences=12,
            opened_at=opened,
            last_occurrence_at=opened + timedelta(minutes=fix_at - 2),
            policy={},
            escalation_level=2 if n2_paged else 1,
            acknowledged_at=opened + timedelta(minutes=ack_at),
            acknowledged_by="sam",
            resolved_at=opened + timedelta(minutes=fix_at),
            resolved_by="sam",
        )
        report = Report.objects.create(received_at=opened, processed_at=opened, payload={})
        Trigger.objects.create(
            report=report,
            service=service,
            code="503",
            received_at=opened,
            matched=True,
            incident=incident,
        )
        for level, team, minutes in [(1, n1, page_at), (2, n2, page_at + 3)][: 1 + n2_paged]:
            at = opened + timedelta(minutes=minutes)
            delivery = Delivery.objects.create(
                key=f"page:{incident.pk}:{level}",
                incident=incident,
                purpose="page",
                tier_level=level,
                team=team,
                message="page",
                status="sent",
                due_at=at,
                sent_at=at,
            )
            Delivery.objects.filter(pk=delivery.pk).update(created_at=at)
        for purpose, minutes in [("outage", 1), ("all_clear", fix_at)]:
            PushRecord.objects.create(
                incident=incident,
                customer=device.customer,
                customer_ref=device.customer.external_id,
                device=device,
                token_tail=device.token[-8:],
                platform=device.platform,
                locale="pt-BR",
                purpose=purpose,
                message="…",
                provider="locmem",
                status="sent",
                created_at=opened + timedelta(minutes=minutes),
                sent_at=opened + timedelta(minutes=minutes),
            )
    return len(past)


def test_support_resolves_with_confirmation_then_looks_the_customer_up(
    live_server,
    browser,  # noqa: F811 (the fixture imported above)
    story,
):
    from playwright.sync_api import expect

    base = live_server.url
    page = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    past = add_history(story)
    post_triggers(base, story["token"], 6)
    incident = Incident.objects.exclude(status=Incident.Status.RESOLVED).get()

    with screenshots_on_failure("support-resolve", [page]):
        log_in(page, base, "sam", f"/support/incidents/{incident.pk}/")
        expect(page.locator("#reach")).to_have_text("pushed to 3 devices of 2 customers")
        page.fill("form:has(button[value=acknowledge]) input[name=note]", "looking at it")
        page.click("button[value=acknowledge]")
        expect(page.locator("#status")).to_have_text("Acknowledged")
        expect(page.locator(".timeline")).to_contain_text("looking at it")
        shot(page, "support-incident")
        page.click("#resolve-confirm summary")
        expect(page.locator("#resolve-confirm .warning-text")).to_contain_text(
            "all-clear to 3 devices of 2 customers"
        )
        page.fill("#resolve-confirm textarea[name=note]", "pods restarted")
        page.click("#resolve-confirm button[value=resolve]")
        expect(page.locator("#status")).to_have_text("Resolved")

    with screenshots_on_failure("customer-lookup", [page]):
        page.click("header.top a:has-text('Customers')")
        page.fill("input[name=q]", "c1")
        page.press("input[name=q]", "Enter")
        expect(page.locator("#customer")).to_have_text("c1")
        expect(page.locator("table.pushes tr.p-sent")).to_have_count(4)  # 2 pushes, 2 all-clears
        expect(page.locator("body")).not_to_contain_text("fcm-c1-7d41a9e2")
        expect(page.locator("body")).to_contain_text("…7d41a9e2")
        shot(page, "customer-lookup")

    with screenshots_on_failure("reports", [page]):
        page.click("header.top a:has-text('Reports')")
        page.click("a.chip:has-text('Last 30 days')")
        expect(page.locator("#period")).to_contain_text(f"Incidents opened: {past + 1}.")
        expect(page.locator("svg.hbar").first).to_contain_text("Analista N1")
        shot(page, "reports")
        with page.expect_download() as download:
            page.click("a.csv >> nth=0")
        assert download.value.suggested_filename.startswith("cxhub-teams-")

    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert incident.events.filter(detail__contains="pods restarted").exists()


def test_triage_to_a_working_action_in_one_confirmation(live_server, browser, story):  # noqa: F811
    from playwright.sync_api import expect

    base = live_server.url
    page = browser.new_context(locale="en-US").new_page()
    TriageAlert.objects.create(
        service="boleto",
        code="500",
        occurrences=3,
        first_seen_at=story["action"].created_at,
        last_seen_at=story["action"].created_at,
    )
    with screenshots_on_failure("triage-to-action", [page]):
        log_in(page, base, "carla", "/admin/incidents/triagealert/")
        page.click("a:has-text('Create an action')")
        expect(page.locator("#missing-service")).to_contain_text("No service “boleto” exists yet")
        page.click("#missing-service button")
        expect(page.locator(".messagelist")).to_contain_text("Service boleto created")
        expect(page.locator("#id_rules-0-code")).to_have_value("500")
        expect(page.locator("#id_code")).to_have_value("")
        page.fill("#id_code", "0200")
        page.click("#tiers-group .add-row a")
        page.fill("#id_tiers-0-level", "1")
        page.fill("#id_tiers-0-name", "Analista N1")
        page.select_option("#id_tiers-0-team", str(Team.objects.get(slug="n1").pk))
        page.fill("#id_tiers-0-after_occurrences", "2")
        page.click("input[name=_save]")
        expect(page.locator(".messagelist")).to_contain_text("was added successfully")
        expect(page).to_have_url(re.compile(r"/admin/actions/action/$"))
    action = Action.objects.get(code="0200")
    assert [str(r) for r in action.rules.all()] == ["boleto/500"]
    # The action works: two boleto/500 reports page its tier 1.
    for _ in range(2):
        response = requests.post(
            f"{base}/api/v1/triggers",
            json={"gatilhos": [{"servico": "boleto", "retorno": "500"}]},
            headers={"Authorization": f"Bearer {story['token']}"},
            timeout=10,
        )
        assert response.status_code == 202
    incident = Incident.objects.get(action=action)
    assert incident.occurrences == 2
    assert [m["target"] for m in locmem.outbox] == ["n1"]
