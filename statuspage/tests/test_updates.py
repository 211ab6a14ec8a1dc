"""Written updates: posted from the support incident page, shown on the page and feed, sent."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from incidents.models import MaintenanceWindow
from notifications import fallback
from notifications.tests.helpers import post
from statuspage.feeds import feeds
from statuspage.models import Notice, StatusUpdate, Subscriber, UpdateTemplate
from statuspage.views import pages
from support.roles import CX_STAFF, SUPPORT

ATOM = "{http://www.w3.org/2005/Atom}"


def atom(content: bytes):
    return ET.fromstring(content)  # noqa: S314 (cxhub's own feed)


def member(username, role):
    user = User.objects.create_user(username, password="pw-long-enough-1", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def incident(visible, integration, settings):
    settings.CXHUB_EMAIL_PROVIDER = "locmem"
    fallback.outbox.clear()
    Subscriber.objects.create(email="ana@example.com", confirmed_at=timezone.now())
    return post(integration)


def post_update(client, incident, follow=False, **data):
    return client.post(
        f"/support/incidents/{incident.pk}/status-update/",
        {"stage": "identified", "text_pt": "Achamos a causa.", "text_en": "Cause found.", **data},
        follow=follow,
    )


@pytest.mark.parametrize("role", [SUPPORT, CX_STAFF])
def test_support_and_cx_staff_post_an_update_that_reaches_subscribers(client, incident, role):
    client.force_login(member("ana", role))
    page = client.get(f"/support/incidents/{incident.pk}/").content.decode()
    assert "Post an update" in page
    response = post_update(client, incident)
    assert response.status_code == 302
    update = StatusUpdate.objects.get()
    assert (update.stage, update.posted_by) == ("identified", "ana")
    notice = Notice.objects.get(update=update)
    assert notice.kind == "incident_update" and notice.status == "queued"
    assert notice.texts["pt-br"]["subject"] == "Identificado: Login no app"
    assert notice.texts["en"]["body"].startswith("Cause found.")
    page = client.get(f"/support/incidents/{incident.pk}/").content.decode()
    assert "Achamos a causa." in page


def test_an_update_from_a_template_fills_the_empty_texts(client, incident):
    template = UpdateTemplate.objects.create(
        name="monitor", stage="monitoring", text_pt="Corrigido, monitorando.", text_en="Fixed."
    )
    client.force_login(member("ana", SUPPORT))
    post_update(client, incident, template=template.pk, stage="monitoring", text_pt="", text_en="")
    update = StatusUpdate.objects.get()
    assert (update.text_pt, update.text_en) == ("Corrigido, monitorando.", "Fixed.")


def test_an_update_needs_both_languages_and_the_permission(client, incident):
    client.force_login(member("ana", SUPPORT))
    post_update(client, incident, text_en="")
    assert not StatusUpdate.objects.exists()
    client.force_login(User.objects.create_user("nobody", is_staff=True))
    assert post_update(client, incident).status_code == 403


def test_a_mass_update_waits_for_a_second_person(client, incident):
    Subscriber.objects.create(email="bia@example.com", confirmed_at=timezone.now())
    incident.policy["approval"] = {"threshold": 1}  # the action's, frozen: 2 subscribers > 1
    incident.save()
    client.force_login(member("ana", CX_STAFF))
    response = post_update(client, incident, follow=True)
    assert "waits for a second person" in response.content.decode()
    notice = Notice.objects.get(kind="incident_update")
    assert (notice.status, notice.requested_by) == ("held", "ana")


def test_updates_show_on_the_page_and_in_the_feed(client, incident):
    client.force_login(member("ana", SUPPORT))
    post_update(client, incident)
    client.logout()
    pages.clear()
    html = client.get("/status/?lang=pt-br").content.decode()
    assert "Identificado" in html and "Achamos a causa." in html
    assert 'action="/status/subscribe/"' in html and "/status/feed.atom" in html
    feeds.clear()
    response = client.get("/status/feed.atom?lang=en")
    assert response["Content-Type"].startswith("application/atom+xml")
    root = atom(response.content)
    titles = [e.find(f"{ATOM}title").text for e in root.iter(f"{ATOM}entry")]
    assert "Identified: Login no app" in titles and "Login no app unavailable" in titles
    texts = [e.find(f"{ATOM}summary").text for e in root.iter(f"{ATOM}entry")]
    assert "Cause found." in texts
    assert "0001" not in response.content.decode()  # nothing internal


def test_the_feed_lists_maintenance_of_customer_facing_services(client, visible):
    now = timezone.now()
    MaintenanceWindow.objects.create(
        service=visible["login"],
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=2),
        reason="db upgrade",
        status_visible=True,
    )
    MaintenanceWindow.objects.create(
        service=visible["login"],
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=2),
        reason="not for the page",
    )
    root = atom(client.get("/status/feed.atom").content)
    titles = [e.find(f"{ATOM}title").text for e in root.iter(f"{ATOM}entry")]
    assert titles == ["Manutenção programada: Login no app"]
    assert b"db upgrade" not in client.get("/status/feed.atom").content


def test_the_feed_and_the_page_answer_head_like_get_without_a_body(client, visible):
    feeds.clear()
    got = client.get("/status/feed.atom")
    head = client.head("/status/feed.atom")
    assert head.status_code == 200 and head.content == b""
    assert head["ETag"] == got["ETag"] and int(head["Content-Length"]) == len(got.content)
    assert head["Content-Type"] == got["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert client.get("/status/feed.atom", HTTP_IF_NONE_MATCH=got["ETag"]).status_code == 304
    assert client.post("/status/feed.atom").status_code == 405
    page = client.head("/status/?lang=en")
    assert page.status_code == 200 and page.content == b""
