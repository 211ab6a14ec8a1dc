"""Fixtures shared by every app's tests: the demo scenario, API clients, a local HTTP sink."""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils import translation
from rest_framework.test import APIClient

from actions.models import Action, Service, Tier, TriggerRule
from cxhub import hotcache
from cxhub.celery import app as celery_app
from incidents.counting import doorbell
from incidents.models import Integration
from notifications import providers
from notifications.channels import locmem
from notifications.models import Channel, Customer, Device, Team
from statuspage.api import snapshots as status_snapshots
from statuspage.views import pages as status_pages

LOCAL_SERVERS = "127.0.0.1,localhost,::1"
# Worker and gunicorn processes started by tests read it from the environment.
os.environ.setdefault("CXHUB_OUTBOUND_ALLOW", LOCAL_SERVERS)

ORIGINAL_PAYLOAD = {
    "gatilhos": [{"servico": "login", "retorno": "503"}, {"servico": "login", "retorno": "404"}]
}


def record_report(*pairs):
    """Ingest one report (default: the original payload's two triggers) and return it."""
    from incidents.services import report_ingest

    integration, _ = Integration.objects.get_or_create(name="tests", defaults={"token_hash": "x"})
    pairs = pairs or (("login", "503"), ("login", "404"))
    triggers = [{"service": service, "code": code} for service, code in pairs]
    report, _ = report_ingest(integration=integration, triggers=triggers, payload=ORIGINAL_PAYLOAD)
    return report


def post_original(times=1, *pairs):
    """Ingest and process `times` reports, as the worker would."""
    from incidents.services import report_process

    for _ in range(times):
        report_process(record_report(*pairs).id)


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path, monkeypatch):
    """Send pushes to memory and keep demo credentials out of the checkout's var/."""
    settings.CXHUB_PUSH_PROVIDER = "locmem"
    # Tasks run inline in tests (eager): every request rings, and a drain does not
    # wait for a window that no later request could use.
    settings.CXHUB_DOORBELL_SECONDS = 0
    monkeypatch.setattr(doorbell, "_last_rung", 0.0)  # a fresh process has not rung
    settings.VAR_DIR = tmp_path
    # Tests run at any hour: quiet hours apply only where a test sets a window.
    settings.CXHUB_QUIET_WINDOW = None
    # The fakes of Apprise targets and push gateways listen on 127.0.0.1.
    settings.CXHUB_OUTBOUND_ALLOW = LOCAL_SERVERS.split(",")
    # Rows cached by one test are rolled back with it: never let the next test see them.
    hotcache.integrations.clear()
    hotcache.rule_matches.clear()
    status_snapshots.clear()
    status_pages.clear()
    cache.clear()
    locmem.outbox.clear()
    locmem.failures.clear()
    providers.outbox.clear()
    providers.locmem_failures.clear()
    yield
    # A request in Portuguese leaves its language active in this thread.
    translation.activate(django_settings.LANGUAGE_CODE)
    locmem.outbox.clear()
    locmem.failures.clear()
    providers.outbox.clear()
    providers.locmem_failures.clear()
    providers.fcm_forget_tokens()


@pytest.fixture
def eager_celery():
    """Run tasks in-process, at enqueue time (on commit)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def make_scenario(channel_kind="locmem", targets=None):
    """Create the original scenario: action 0001 covering login 503/404, three tiers, triage."""
    targets = targets or {}
    login = Service.objects.create(slug="login", name="Login no app")
    teams = {}
    for slug, name in [
        ("n1", "Analista N1"),
        ("n2", "Analista N2"),
        ("coordenacao", "Coordenação"),
        ("triage", "Triagem"),
    ]:
        teams[slug] = Team.objects.create(slug=slug, name=name)
        Channel.objects.create(team=teams[slug], kind=channel_kind, target=targets.get(slug, slug))
    action = Action.objects.create(
        code="0001",
        name="MS de Login sem resposta",
        push_threshold=5,
        push_message="Infelizmente nosso app está indisponível, avisaremos quando voltar",
        all_clear_message="Voltamos a funcionar",
    )
    TriggerRule.objects.create(action=action, service=login, code="503")
    TriggerRule.objects.create(action=action, service=login, code="404")
    Tier.objects.create(
        action=action,
        level=1,
        name="Analista N1",
        team=teams["n1"],
        after_occurrences=10,
        after_minutes=5,
    )
    Tier.objects.create(
        action=action,
        level=2,
        name="Analista N2",
        team=teams["n2"],
        after_occurrences=20,
        after_minutes=20,
    )
    Tier.objects.create(
        action=action, level=3, name="Coordenação", team=teams["coordenacao"], after_minutes=60
    )
    other = Service.objects.create(slug="pix", name="Pix")
    devices = {}
    for external_id, services, tokens in [
        ("c1", [login], ["tok-c1-a", "tok-c1-b"]),
        ("c2", [login, other], ["tok-c2"]),
        ("c3", [other], ["tok-c3"]),  # not a login user: must not be pushed
    ]:
        customer = Customer.objects.create(external_id=external_id)
        customer.services.set(services)
        for token in tokens:
            devices[token] = Device.objects.create(
                customer=customer, platform="android", token=token
            )
    return {"action": action, "login": login, "teams": teams, "devices": devices}


@pytest.fixture
def scenario(db):
    return make_scenario()


@pytest.fixture
def integration_token(db):
    integration = Integration(name="monitoring")
    token = integration.set_new_token()
    integration.save()
    return token


@pytest.fixture
def ingest_client(integration_token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token}")
    return client


@pytest.fixture
def registry_client(db):
    """An API client holding the app backend's token: the customer registry's credential."""
    integration = Integration(name="app-backend", kind=Integration.Kind.APP_BACKEND)
    token = integration.set_new_token()
    integration.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


class HttpSink:
    """A local HTTP server that records every request (Apprise json://, push gateway)."""

    def __init__(self):
        self.requests = []
        self.fail_next = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if sink.fail_next:
                    sink.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                sink.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def json(self, path):
        return [json.loads(r["body"]) for r in self.requests if r["path"] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_sink():
    sink = HttpSink()
    yield sink
    sink.close()
