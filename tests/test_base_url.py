"""Links follow the port cxhub serves on: a run on a non-default port pages working links."""

import os
import re
import subprocess
import sys

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from conftest import ORIGINAL_PAYLOAD, make_scenario
from incidents.models import Incident, Integration
from support.roles import SUPPORT, groups_ensure
from tests.processes import Gunicorn
from tests.test_drills import web_env
from tests.worker import ROOT, running_worker, wait_for

URL_RE = re.compile(r"https?://[^\s\"'<>]+")


def run_check(**env):
    clean = {k: v for k, v in os.environ.items() if k not in ("CXHUB_BASE_URL", "CXHUB_PORT")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_startup_warns_when_a_local_base_url_names_another_port():
    result = run_check(CXHUB_PORT="33417", CXHUB_BASE_URL="http://127.0.0.1:8000")
    assert "cxhub.W001" in result.stderr + result.stdout
    assert "port 8000" in result.stderr + result.stdout


def test_no_warning_when_the_base_url_follows_the_port_or_is_public():
    assert "cxhub.W001" not in run_check(CXHUB_PORT="33417").stderr
    public = run_check(CXHUB_PORT="8000", CXHUB_BASE_URL="https://cxhub.example.com")
    assert "cxhub.W001" not in public.stderr + public.stdout


def test_demo_prints_urls_on_the_port_it_serves(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k != "CXHUB_BASE_URL"}
    # A database of its own: the demo's rows must not land in the tests' database.
    env = {
        **clean,
        "CXHUB_PORT": "33417",
        "CXHUB_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    urls = URL_RE.findall(out)
    assert urls
    assert all(url.startswith("http://127.0.0.1:33417/") for url in urls), urls


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_links_in_a_page_open_on_a_non_default_port(tmp_path, http_sink, monkeypatch):
    """Serve on a free port with no base URL set; the page's links must open there."""
    monkeypatch.delenv("CXHUB_BASE_URL", raising=False)
    apprise = http_sink.url.replace("http://", "json://")
    make_scenario(
        channel_kind="apprise",
        targets={slug: f"{apprise}/{slug}" for slug in ("n1", "n2", "coordenacao", "triage")},
    )
    groups_ensure()
    user = get_user_model().objects.create_user("ana", password="a-long-password", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT))
    integration = Integration(name="monitoring")
    token = integration.set_new_token()
    integration.save()

    # The worker signs acknowledge links with the test process's key; the web checks them.
    web = Gunicorn(
        tmp_path / "web.log",
        web_env(tmp_path, SECRET_KEY=settings.SECRET_KEY),
        workers=1,
        threads=4,
    )
    web.env["CXHUB_PORT"] = str(web.port)
    with running_worker(tmp_path, {"CXHUB_PORT": str(web.port)}):
        web.start()
        try:
            page = follow_page_links(web, token, http_sink)
        finally:
            web.stop()
    assert "Incident:" in page and "Acknowledge:" in page


def follow_page_links(web, token, http_sink) -> str:
    """Post triggers until tier 1 pages; open every link of the page logged in as Support."""
    for _ in range(10):
        response = requests.post(
            f"{web.url}/api/v1/triggers",
            json=ORIGINAL_PAYLOAD,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 202
    wait_for(lambda: http_sink.json("/n1"), timeout=30, message="tier 1 paged")
    [page] = http_sink.json("/n1")
    links = URL_RE.findall(page["message"])
    assert len(links) >= 2, page["message"]
    assert all(link.startswith(f"{web.url}/") for link in links), links

    browser = requests.Session()
    login = browser.get(f"{web.url}/admin/login/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    browser.post(
        f"{web.url}/admin/login/",
        data={"username": "ana", "password": "a-long-password", "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{web.url}/admin/login/"},
        timeout=10,
    )
    incident = Incident.objects.get()
    for link in links:
        opened = browser.get(link, timeout=10)
        assert opened.status_code == 200, (link, opened.status_code, web.output()[-2000:])
        assert incident.action.code in opened.text
    return page["message"]
