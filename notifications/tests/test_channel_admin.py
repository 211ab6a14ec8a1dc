"""The channel form: checked by Apprise and the outbound guard, masked, revealed only to editors."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User

from notifications.models import Channel, Delivery, Team
from support.roles import CX_STAFF, SUPPORT

SECRET_URL = "json://user:hunter22@hooks.example.com/page?-X-Api-Key=KEY-0123456789"


@pytest.fixture
def team(db):
    team = Team.objects.create(slug="n1", name="Analista N1")
    Channel.objects.create(team=team, kind="apprise", target=SECRET_URL)
    return team


def staff(username, role):
    user = User.objects.create_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def team_form(team, **channel):
    form = {
        "slug": team.slug,
        "name": team.name,
        "channels-TOTAL_FORMS": "1",
        "channels-INITIAL_FORMS": "0",
        "channels-MIN_NUM_FORMS": "0",
        "channels-MAX_NUM_FORMS": "1000",
        "channels-0-team": str(team.pk),
        "channels-0-enabled": "on",
    }
    form.update({f"channels-0-{key}": value for key, value in channel.items()})
    return form


def test_view_only_role_sees_the_masked_target_and_no_reveal(client, team):
    client.force_login(staff("sup", SUPPORT))
    page = client.get(f"/admin/notifications/team/{team.pk}/change/").content.decode()
    assert "hunter22" not in page and "KEY-0123456789" not in page
    assert "json://…6789" in page
    assert "Reveal" not in page
    channel = team.channels.get()
    assert client.get(f"/admin/notifications/team/channel/{channel.pk}/reveal/").status_code == 403


def test_editor_reveals_the_target_and_it_is_recorded(client, team):
    client.force_login(staff("cxs", CX_STAFF))
    channel = team.channels.get()
    page = client.get(f"/admin/notifications/team/{team.pk}/change/").content.decode()
    assert "hunter22" not in page and "Reveal" in page
    revealed = client.get(f"/admin/notifications/team/channel/{channel.pk}/reveal/")
    assert SECRET_URL.replace("&", "&amp;") in revealed.content.decode()
    assert "no-store" in revealed["Cache-Control"]
    entry = LogEntry.objects.get(object_id=str(team.pk))
    assert entry.user.username == "cxs" and "Revealed the target" in entry.get_change_message()


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("", "An Apprise channel needs its URL."),
        ("hooks.example.com/page", "Give an Apprise URL such as"),
        ("nosuchservice://abc", "Apprise knows no service &#x27;nosuchservice://&#x27;"),
        ("json://", "Apprise understands &#x27;json://&#x27; but not this URL"),
        ("json://127.0.0.1:9/x", "an internal address"),
        ("mailto://u:p@169.254.169.254", "an internal address"),
    ],
)
def test_bad_targets_are_refused_naming_what_is_wrong(admin_client, db, settings, target, error):
    settings.CXHUB_OUTBOUND_ALLOW = []
    team = Team.objects.create(slug="n2", name="N2")
    response = admin_client.post(
        f"/admin/notifications/team/{team.pk}/change/",
        team_form(team, kind="apprise", target=target),
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not team.channels.exists()


def test_a_good_target_is_saved_without_sending(admin_client, db, http_sink):
    team = Team.objects.create(slug="n2", name="N2")
    target = http_sink.url.replace("http://", "json://") + "/page"
    response = admin_client.post(
        f"/admin/notifications/team/{team.pk}/change/",
        team_form(team, kind="apprise", target=target),
    )
    assert response.status_code == 302
    assert team.channels.get().target == target
    assert http_sink.requests == []


def test_a_typed_target_survives_an_error_elsewhere_and_the_stored_one_never_shows(
    admin_client, team, http_sink
):
    target = http_sink.url.replace("http://", "json://") + "/typed"
    form = team_form(team, kind="apprise", target=target)
    form["name"] = ""  # the error is on the team, not on the channel
    response = admin_client.post(f"/admin/notifications/team/{team.pk}/change/", form)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'value="{target}"' in page
    assert "hunter22" not in page
    assert (
        "hunter22"
        not in admin_client.get(f"/admin/notifications/team/{team.pk}/change/").content.decode()
    )


def test_team_form_sends_a_test_page_for_editors_only(client, team):
    client.force_login(staff("sup", SUPPORT))
    assert client.post(f"/admin/notifications/team/{team.pk}/test-page/").status_code == 403
    assert not Delivery.objects.exists()
    client.force_login(staff("cxs", CX_STAFF))
    page = client.get(f"/admin/notifications/team/{team.pk}/change/").content.decode()
    assert "Send a test page" in page
    response = client.post(f"/admin/notifications/team/{team.pk}/test-page/")
    assert response.status_code == 302
    assert Delivery.objects.get().channel == team.channels.get()
