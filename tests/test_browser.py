"""A CX analyst and a support analyst in a real browser (Debian's Chromium via Playwright).

CX staff create an action with two tiers in the admin; monitoring posts triggers over
HTTP; the incident page updates on its own (count and chart); Support finds the incident
from the list's shortcut and acknowledges it. Screenshots of every open page land in
artifacts/ when a step fails.
"""

import contextlib
import re
import shutil
from pathlib import Path

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from actions.models import Service
from cxhub.celery import app as celery_app
from cxhub.tests.test_schema import API_PATHS, FEED_PATHS, ROOT_PATHS
from incidents.models import Incident, Integration
from notifications.channels import locmem
from notifications.models import Channel, Customer, Device, Team
from support.roles import CX_STAFF, SUPPORT

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PASSWORD = "browser-test-password"
LOGIN_PAYLOAD = {
    "gatilhos": [{"servico": "login", "retorno": "503"}, {"servico": "login", "retorno": "504"}]
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is not installed"),
]


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # are still plain synchronous calls, so Django's async-safety guard does not apply.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def screenshots_on_failure(name, pages):
    """Save a full-page screenshot of every open page under artifacts/ if the block fails."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        for i, page in enumerate(pages):
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / f"{name}-{i}.png"), full_page=True)
        raise


@pytest.fixture
def world(settings):
    """Teams, the login service and its customers, an integration, one user of each role."""
    settings.CXHUB_SUPPORT_REFRESH_SECONDS = 1
    celery_app.conf.task_always_eager = True
    login = Service.objects.create(slug="login", name="Login no app")
    for slug, name in [("n1", "Analista N1"), ("n2", "Analista N2")]:
        team = Team.objects.create(slug=slug, name=name)
        Channel.objects.create(team=team, kind="locmem", target=slug)
    customer = Customer.objects.create(external_id="c1")
    customer.services.add(login)
    Device.objects.create(customer=customer, platform="android", token="tok-1")
    integration = Integration(name="monitoring")
    token = integration.set_new_token()
    integration.save()
    users = {}
    for username, role in [("carla", CX_STAFF), ("sam", SUPPORT)]:
        users[role] = get_user_model().objects.create_user(
            username, password=PASSWORD, is_staff=True
        )
        users[role].groups.add(Group.objects.get(name=role))
    yield {"token": token}
    celery_app.conf.task_always_eager = False


def watch_csp(page, violations):
    """Collect the Content-Security-Policy violations the browser reports on `page`."""

    def seen(message):
        if "Content Security Policy" in message.text and "cdn.redoc.ly" not in message.text:
            # ReDoc's logo from its CDN is refused on purpose (img-src 'self' data:).
            violations.append(f"{page.url}: {message.text}")

    page.on("console", seen)
    return page


def log_in(page, base, username, next_path):
    page.goto(f"{base}/admin/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def post_triggers(base, token, n):
    for _ in range(n):
        response = requests.post(
            f"{base}/api/v1/triggers",
            json=LOGIN_PAYLOAD,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 202, response.text


def test_cx_staff_configure_and_support_acknowledge_in_the_browser(live_server, browser, world):
    from playwright.sync_api import expect

    base = live_server.url
    violations = []
    cx = watch_csp(browser.new_context(locale="en-US").new_page(), violations)
    support = watch_csp(browser.new_context(locale="pt-BR").new_page(), violations)
    pages = [cx, support]

    with screenshots_on_failure("cx-creates-action", pages):
        log_in(cx, base, "carla", "/admin/actions/action/add/")
        expect(cx.locator("#id_code")).to_be_visible()
        cx.fill("#id_code", "0100")
        cx.fill("#id_name", "Login fora do ar")
        cx.fill("#id_push_threshold", "3")
        # One trigger rule: login, any 5xx (the service field is an autocomplete).
        cx.click("#rules-group .add-row a")
        cx.click("#rules-group tr.form-row:not(.empty-form) .select2-selection")
        cx.fill(".select2-search__field", "login")
        cx.click(".select2-results__option:has-text('login')")
        cx.fill("#id_rules-0-code", "5xx")
        # Two tiers: N1 at 4 occurrences, N2 at 6.
        for i, (name, team, occurrences) in enumerate(
            [("Analista N1", "n1", 4), ("Analista N2", "n2", 6)]
        ):
            cx.click("#tiers-group .add-row a")
            cx.fill(f"#id_tiers-{i}-level", str(i + 1))
            cx.fill(f"#id_tiers-{i}-name", name)
            cx.select_option(f"#id_tiers-{i}-team", str(Team.objects.get(slug=team).pk))
            cx.fill(f"#id_tiers-{i}-after_occurrences", str(occurrences))
        cx.click("input[name=_save]")
        expect(cx.locator(".messagelist")).to_contain_text("was added successfully")
        expect(cx.locator("#result_list")).to_contain_text("Analista N1 4 occ.")

    with screenshots_on_failure("incident-page-updates", pages):
        post_triggers(base, world["token"], 2)
        incident = Incident.objects.get(action__code="0100")
        cx.goto(f"{base}/support/incidents/{incident.pk}/")
        expect(cx.locator("#occurrences")).to_have_text("2")
        expect(cx.locator("#chart")).to_have_attribute("data-total", "2")
        # CX staff configure; they do not respond to incidents.
        expect(cx.locator("button[value=acknowledge]")).to_have_count(0)

        post_triggers(base, world["token"], 3)
        # No reload by the test: the page notices the change and refreshes itself.
        expect(cx.locator("#occurrences")).to_have_text("5", timeout=10_000)
        expect(cx.locator("#chart")).to_have_attribute("data-total", "5")
        expect(cx.locator("#chart .marker.push")).to_have_count(1)
        expect(cx.locator("#chart .marker.page")).to_have_count(1)
        expect(cx.locator("#chart rect.bar")).not_to_have_count(0)

    with screenshots_on_failure("support-acknowledges", pages):
        log_in(support, base, "sam", "/support/")
        # Two clicks: the service shortcut for yesterday and today, then the incident.
        support.click("a.chip.service:has-text('login')")
        expect(support).to_have_url(re.compile(r"service=login&period=2d"))
        support.click("table.incidents tbody tr:first-child td:first-child a")
        expect(support.locator("#occurrences")).to_have_text("5")
        expect(support.locator("h2").first).to_have_text("Ocorrências ao longo do tempo")
        support.click("button[value=acknowledge]")
        expect(support.locator("#status")).to_have_text("Reconhecido")
        expect(support.locator("button[value=acknowledge]")).to_have_count(0)

    incident.refresh_from_db()
    assert incident.status == Incident.Status.ACKNOWLEDGED
    assert incident.acknowledged_by == "sam"
    # N1 was paged at 4 occurrences; acknowledging stops N2 even past its 6.
    post_triggers(base, world["token"], 2)
    incident.refresh_from_db()
    assert incident.occurrences == 7
    # N1 got its page and then the notice of who acknowledged; nobody else was paged.
    assert [m["target"] for m in locmem.outbox] == ["n1", "n1"]
    assert "sam" in locmem.outbox[1]["body"]
    pages = incident.deliveries.filter(purpose="page")
    assert list(pages.values_list("tier_level", flat=True)) == [1]
    # The admin (select2 autocomplete, inlines), the support pages and the chart
    # all worked under the site's Content-Security-Policy.
    assert violations == []


def schema_operation_count(tmp_path) -> int:
    import yaml
    from django.core.management import call_command

    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(path))
    methods = {"get", "put", "post", "delete", "patch"}
    paths = yaml.safe_load(path.read_text())["paths"]
    return sum(len(methods & set(item)) for item in paths.values())


def test_swagger_ui_lists_every_endpoint_without_leaving_the_app(live_server, browser, tmp_path):
    from playwright.sync_api import expect

    violations = []
    page = watch_csp(browser.new_page(), violations)
    outside = []
    page.on("request", lambda r: outside.append(r.url) if live_server.url not in r.url else None)
    with screenshots_on_failure("swagger-ui", [page]):
        page.goto(f"{live_server.url}/api/docs/")
        operations = page.locator(".opblock")
        # Every operation of every path the schema documents (Swagger UI draws one
        # block per method, e.g. POST and PUT of the integrations URLs).
        expect(operations).to_have_count(schema_operation_count(tmp_path))
        paths = {
            text.replace("\u200b", "")
            for text in page.locator(".opblock-summary-path").all_inner_texts()
        }
        assert paths == API_PATHS | ROOT_PATHS | FEED_PATHS
        expect(page.locator(".btn.authorize")).to_be_visible()
    with screenshots_on_failure("redoc", [page]):
        page.goto(f"{live_server.url}/api/redoc/")
        expect(page.locator("h1").first).to_contain_text("cxhub API")
    assert outside == [] or all("cdn.redoc.ly" in url for url in outside), outside
    assert violations == []
