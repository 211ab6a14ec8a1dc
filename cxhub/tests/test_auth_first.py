"""The failed-authentication limit is checked before any credential work, on every path."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from support.roles import SUPPORT


@pytest.fixture
def limit(settings):
    settings.CXHUB_AUTH_FAILURES_PER_MINUTE = 3
    settings.CXHUB_METRICS_TOKEN = "scrape-secret"
    # The limit counts per clock minute: a test whose requests straddle a minute's end
    # (three password hashes on a loaded machine) would start a new count. Time stands
    # at the start of a minute while the test runs.
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(start, tick=False):
        yield


def test_sprayed_admin_logins_meet_the_address_limit_before_any_password_check(
    db, limit, monkeypatch
):
    User.objects.create_user("victim", password="right-password", is_staff=True)
    client = Client()
    for i in range(3):  # one wrong password each for three usernames: axes locks no pair
        response = client.post("/admin/login/", {"username": f"user{i}", "password": "guess"})
        assert response.status_code == 200
    checked = []
    monkeypatch.setattr(
        "django.contrib.auth.backends.ModelBackend.authenticate",
        lambda *args, **kwargs: checked.append(1),
    )
    response = client.post("/admin/login/", {"username": "victim", "password": "right-password"})
    assert response.status_code == 429
    assert "Retry-After" in response
    assert checked == []


def test_metrics_answers_429_past_the_limit_even_with_the_right_token(db, limit):
    client = Client()
    for _ in range(3):
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert response.status_code == 429
    assert "Retry-After" in response


def support_client(db):
    from support.roles import groups_ensure

    groups_ensure()
    user = User.objects.create_user("sam", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT))
    client = Client()
    client.force_login(user)
    return client


def test_an_idle_session_ends(db, settings):
    settings.CXHUB_SESSION_IDLE_MINUTES = 30
    client = support_client(db)
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        assert client.get("/support/").status_code == 200
    with time_machine.travel(now + timedelta(minutes=29), tick=False):
        assert client.get("/support/").status_code == 200
    with time_machine.travel(now + timedelta(minutes=58), tick=False):
        # Polling the page's state does not keep a session alive.
        client.get("/support/state.json")
    with time_machine.travel(now + timedelta(minutes=60), tick=False):
        response = client.get("/support/")
        assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("path", ["/support/", "/support/customers/", "/admin/"])
def test_pages_with_personal_data_are_not_stored_by_browsers_or_proxies(db, path):
    response = support_client(db).get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
