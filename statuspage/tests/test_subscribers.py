"""Subscribing: double opt-in by signed link, no enumeration, throttles, one-click unsubscribe."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from notifications import fallback
from notifications.models import Delivery
from notifications.services import delivery_send
from statuspage.models import Subscriber
from statuspage.subscribers import manage_url, unsubscribe_url


@pytest.fixture
def mailbox(visible, settings):
    settings.CXHUB_EMAIL_PROVIDER = "locmem"
    fallback.outbox.clear()
    yield fallback.outbox
    fallback.outbox.clear()


def subscribe(client, email="ana@example.com", **data):
    return client.post(
        "/status/subscribe/", {"email": email, "language": "pt-br", **data}, REMOTE_ADDR="10.0.0.1"
    )


def send_confirmations():
    for pk in Delivery.objects.filter(purpose="status_confirm", status="pending").values_list(
        "pk", flat=True
    ):
        delivery_send(pk)


def confirm_path(mailbox, address):
    """Return the path of the confirmation link last mailed to `address`."""
    body = [m["bodies"][address] for m in mailbox if address in m["to"]][-1]
    return urlsplit(re.search(r"http://\S+/status/confirm/\S+/", body).group(0)).path


def test_a_subscription_starts_only_when_the_link_is_confirmed(client, mailbox, visible):
    login = visible["login"]
    response = subscribe(client, services=[login.pk])
    assert response.status_code == 200
    assert "confirmation link is on its way" in response.content.decode()
    assert not Subscriber.objects.exists()
    send_confirmations()
    assert mailbox[0]["subjects"]["ana@example.com"] == (
        "Confirme sua inscrição nos avisos de status dos serviços"
    )
    path = confirm_path(mailbox, "ana@example.com")
    page = client.get(path)
    assert page.status_code == 200 and "<form" in page.content.decode()
    assert not Subscriber.objects.exists()  # a link scanner's GET confirms nothing
    assert client.post(path).status_code == 200
    subscriber = Subscriber.objects.get()
    assert subscriber.active and subscriber.language == "pt-br"
    assert not subscriber.whole_page and list(subscriber.services.all()) == [login]


def test_the_answer_is_the_same_whether_or_not_the_address_is_subscribed(client, mailbox):
    first = subscribe(client)
    send_confirmations()
    client.post(confirm_path(mailbox, "ana@example.com"))
    again = subscribe(client)
    other = subscribe(client, email="bia@example.com")
    assert first.status_code == again.status_code == other.status_code == 200
    assert first.content == again.content
    assert again.content.replace(b"bia", b"ana") == other.content.replace(b"bia", b"ana")
    send_confirmations()
    # Both get a confirmation link: what happens next is for the mailbox's owner to see.
    assert sorted(a for m in mailbox for a in m["to"]) == [
        "ana@example.com",
        "ana@example.com",
        "bia@example.com",
    ]


def test_a_confirmation_link_expires(client, mailbox, settings):
    settings.CXHUB_STATUS_CONFIRM_HOURS = 1
    subscribe(client)
    send_confirmations()
    path = confirm_path(mailbox, "ana@example.com")
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert client.post(path).status_code == 400
    assert not Subscriber.objects.exists()
    forged = path.replace("/confirm/", "/confirm/x")
    assert client.post(forged).status_code == 400


def test_subscribing_is_throttled_per_address_and_per_client(client, mailbox, settings):
    settings.CXHUB_STATUS_SUBSCRIBE_PER_ADDRESS = 2
    settings.CXHUB_STATUS_SUBSCRIBE_PER_CLIENT = 5  # the 3 above count too
    assert [subscribe(client).status_code for _ in range(3)] == [200, 200, 429]
    assert [subscribe(client, email=f"x{i}@example.com").status_code for i in range(3)] == [
        200,
        200,
        429,
    ]
    # Another client address may still subscribe another address.
    other = client.post(
        "/status/subscribe/",
        {"email": "z@example.com", "language": "en"},
        REMOTE_ADDR="10.0.0.2",
    )
    assert other.status_code == 200
    assert Delivery.objects.filter(purpose="status_confirm").count() == 5


def test_a_bad_form_is_refused(client, mailbox):
    assert subscribe(client, email="not an address").status_code == 400
    assert not Delivery.objects.exists()


def active(email="ana@example.com", **fields):
    return Subscriber.objects.create(email=email, confirmed_at=timezone.now(), **fields)


def test_one_post_without_cookie_or_csrf_token_unsubscribes(db):
    subscriber = active()
    browserless = Client(enforce_csrf_checks=True)
    path = urlsplit(unsubscribe_url(subscriber)).path
    assert "<form" in browserless.get(path).content.decode()
    assert Subscriber.objects.get().active  # a GET changes nothing
    response = browserless.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not Subscriber.objects.get().active
    assert browserless.post(path.replace("/unsubscribe/", "/unsubscribe/x")).status_code == 404


def test_an_old_confirmation_link_cannot_undo_an_unsubscribe(client, mailbox):
    subscribe(client)
    send_confirmations()
    path = confirm_path(mailbox, "ana@example.com")
    client.post(path)
    subscriber = Subscriber.objects.get()
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        client.post(urlsplit(unsubscribe_url(subscriber)).path)
        assert client.post(path).status_code == 400
    assert not Subscriber.objects.get().active


def test_status_links_stay_out_of_logs():
    from cxhub import redact

    for path in (
        "/status/confirm/eyJlIjoiYW5hQGV4YW1wbGUuY29tIn0:1x:abc/",
        "/status/unsubscribe/Ij:x/",
        "/status/manage/Ij:x/",
    ):
        assert "[redacted]" in redact.url(path) and "eyJ" not in redact.url(path)


def test_the_manage_link_shows_and_changes_services_language_and_zone(db, visible):
    login = visible["login"]
    subscriber = active(language="pt-br")
    browserless = Client(enforce_csrf_checks=True)
    path = urlsplit(manage_url(subscriber)).path
    page = browserless.get(path)
    html = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert "ana@example.com" in html and "Login no app" in html
    assert '<option value="America/Sao_Paulo" selected>' in html  # the bank's zone by default
    response = browserless.post(
        path, {"language": "en", "time_zone": "Europe/Lisbon", "services": [login.pk]}
    )
    assert response.status_code == 200 and "Saved." in response.content.decode()
    subscriber.refresh_from_db()
    assert (subscriber.language, subscriber.time_zone) == ("en", "Europe/Lisbon")
    assert not subscriber.whole_page and list(subscriber.services.all()) == [login]
    assert '<option value="Europe/Lisbon" selected>' in browserless.get(path).content.decode()
    refused = browserless.post(path, {"language": "en", "time_zone": "Mars/Olympus"})
    assert refused.status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.time_zone == "Europe/Lisbon"
    browserless.post(path, {"language": "pt-br", "time_zone": ""})  # nothing chosen: whole page
    subscriber.refresh_from_db()
    assert subscriber.whole_page and subscriber.time_zone == ""


def test_the_manage_page_unsubscribes_and_its_link_is_no_unsubscribe_link(db):
    subscriber = active()
    browserless = Client(enforce_csrf_checks=True)
    manage = urlsplit(manage_url(subscriber)).path
    unsubscribe = urlsplit(unsubscribe_url(subscriber)).path
    assert f'action="{unsubscribe}"' in browserless.get(manage).content.decode()
    # Each token has its own salt: one cannot stand for the other.
    assert browserless.get(manage.replace("/manage/", "/unsubscribe/")).status_code == 404
    assert browserless.get(unsubscribe.replace("/unsubscribe/", "/manage/")).status_code == 404
    browserless.post(unsubscribe)
    html = browserless.get(manage).content.decode()
    assert "não está inscrito" in html and "<select" not in html
    browserless.post(manage, {"language": "en"})  # an unsubscribed address stays so
    assert not Subscriber.objects.get().active


def test_the_zone_asked_when_subscribing_is_kept(client, mailbox):
    subscribe(client, time_zone="America/Manaus")
    send_confirmations()
    client.post(confirm_path(mailbox, "ana@example.com"))
    assert Subscriber.objects.get().time_zone == "America/Manaus"
    assert subscribe(client, email="bo@example.com", time_zone="Nowhere/City").status_code == 400
