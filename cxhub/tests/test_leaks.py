"""Credentials and personal data leak nowhere: logs, cookies, exports, files, former staff."""

import pytest
from django.contrib.auth.models import User

from cxhub import redact


@pytest.mark.parametrize(
    "line",
    [
        "GET /api/v1/heartbeats/hb_SECRETSECRETSECRET HTTP/1.1",
        "POST /api/v1/integrations%2Fgeneric%2FSECRETSECRETSECRET HTTP/1.1",
        "POST /api/v1/integrations/generic%2FSECRETSECRETSECRET HTTP/1.1",
    ],
)
def test_tokens_in_paths_leave_no_trace_in_access_logs(line):
    assert "SECRETSECRETSECRET" not in redact.url(line)


def test_worker_logs_go_through_the_redacting_handler():
    from celery.signals import setup_logging

    # A receiver means Celery leaves logging to Django's LOGGING (the redacting console).
    assert setup_logging.receivers


def test_csv_cells_that_would_run_as_formulas_are_quoted():
    from notifications.admin import csv_cell

    for value in ('=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(value).startswith("'")
    assert csv_cell("Login down") == "Login down"
    assert csv_cell(42) == 42


def test_shown_once_secrets_do_not_travel_in_a_cookie(settings):
    assert settings.MESSAGE_STORAGE == "django.contrib.messages.storage.session.SessionStorage"


def test_an_api_key_stops_working_when_staff_status_is_removed(db):
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    from apikeys.models import ApiKey
    from support.roles import SUPPORT, groups_ensure

    groups_ensure()
    user = User.objects.create_user("former", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT))
    api_key = ApiKey(user=user, name="k")
    raw = api_key.set_new_key()
    api_key.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert client.get("/api/v1/incidents/").status_code == 200
    User.objects.filter(pk=user.pk).update(is_staff=False)
    assert client.get("/api/v1/incidents/").status_code == 401


def test_support_sees_no_customer_phone_or_email_in_the_admin(db, client):
    from django.contrib.auth.models import Group

    from notifications.models import Customer
    from support.roles import SUPPORT, groups_ensure

    groups_ensure()
    customer = Customer.objects.create(
        external_id="c9", phone="+5511987654321", email="maria.silva@example.com"
    )
    user = User.objects.create_user("sup", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(user)
    page = client.get(f"/admin/notifications/customer/{customer.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "987654321" not in html and "maria.silva" not in html


def test_demo_credential_files_are_readable_by_their_owner_only(db, settings):
    import stat

    from django.core.management import call_command

    call_command("demo", quiet=True)
    files = [p for p in settings.VAR_DIR.iterdir() if p.is_file()]
    assert any(p.name == "demo_token" for p in files)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path.name
