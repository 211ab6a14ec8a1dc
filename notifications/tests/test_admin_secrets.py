"""Channel secrets (Apprise URLs) never reach the admin's pages in full."""

import pytest

from notifications.models import Channel, Team

pytestmark = pytest.mark.django_db

SECRET_URL = "slack://T000/B000/XXXXsupersecretTOKEN1234"


@pytest.fixture
def team():
    team = Team.objects.create(slug="n1", name="Analista N1")
    Channel.objects.create(team=team, kind="apprise", target=SECRET_URL)
    return team


def test_team_pages_show_only_the_masked_target(admin_client, team):
    for url in ["/admin/notifications/team/", f"/admin/notifications/team/{team.pk}/change/"]:
        html = admin_client.get(url).content.decode()
        assert "supersecret" not in html, url
        assert "slack://…1234" in html, url


def test_saving_the_team_without_retyping_keeps_the_secret(admin_client, team, fake_dns):
    channel = team.channels.get()
    form = {
        "slug": "n1",
        "name": "Analista N1 (renamed)",
        "channels-TOTAL_FORMS": "1",
        "channels-INITIAL_FORMS": "1",
        "channels-MIN_NUM_FORMS": "0",
        "channels-MAX_NUM_FORMS": "1000",
        "channels-0-id": str(channel.pk),
        "channels-0-team": str(team.pk),
        "channels-0-kind": "apprise",
        "channels-0-target": "",
        "channels-0-enabled": "on",
    }
    response = admin_client.post(f"/admin/notifications/team/{team.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    channel.refresh_from_db()
    assert channel.target == SECRET_URL
    fake_dns["hooks.slack.com"] = "93.184.215.14"  # the test machine has no DNS
    form["channels-0-target"] = "slack://T111/B111/new"
    admin_client.post(f"/admin/notifications/team/{team.pk}/change/", form)
    channel.refresh_from_db()
    assert channel.target == "slack://T111/B111/new"


def test_push_secrets_never_appear_in_the_admin_or_the_api(admin_client, team, settings, tmp_path):
    from django.contrib.admin import site
    from django.urls import reverse

    settings.CXHUB_PUSH_WEBHOOK_SECRET = "webhook-secret-0123456789"
    account = tmp_path / "fcm.json"
    account.write_text('{"project_id": "p", "private_key": "FCM-PRIVATE-KEY-XYZ"}')
    settings.CXHUB_FCM_CREDENTIALS_FILE = str(account)
    pages = [reverse("admin:index"), "/api/schema/", "/api/v1/incidents/"]
    for model in site._registry:
        meta = model._meta
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    for url in pages:
        body = admin_client.get(url).content.decode()
        assert "webhook-secret-0123456789" not in body, url
        assert "FCM-PRIVATE-KEY-XYZ" not in body, url
        assert "supersecret" not in body, url
