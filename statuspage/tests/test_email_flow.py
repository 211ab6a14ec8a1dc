"""The subscriber's whole story through a real SMTP server (aiosmtpd), as a mail client sees it."""

import re
from urllib.parse import urlsplit

from django.test import Client

from incidents import services as incidents
from notifications.models import Delivery
from notifications.services import delivery_send
from notifications.tests.helpers import post
from statuspage.notices import incident_notices, notice_fan_out


def send_all():
    for pk in Delivery.objects.filter(
        purpose__in=["status_confirm", "status_notice"], status="pending"
    ).values_list("pk", flat=True):
        delivery_send(pk)


def notices_for(incident_id):
    for notice in incident_notices(incident_id):
        notice_fan_out(notice.pk)
    send_all()


def test_subscribe_confirm_hear_and_unsubscribe_with_one_click(
    client, visible, integration, smtp_server
):
    login = visible["login"]
    client.post(
        "/status/subscribe/",
        {"email": "Ana@Example.com", "language": "pt-br", "services": [login.pk]},
    )
    send_all()
    (confirmation,) = smtp_server.to("ana@example.com")
    assert (
        confirmation["Subject"].strip()
        == "Confirme sua inscrição nos avisos de status dos serviços"
    )
    assert "List-Unsubscribe" not in confirmation  # not subscribed yet
    link = re.search(r"http://\S+/status/confirm/\S+/", confirmation.get_content()).group(0)
    assert client.post(urlsplit(link).path).status_code == 200

    incident = post(integration)  # reaches the push threshold: customers can see it
    notices_for(incident.pk)
    notice = smtp_server.to("ana@example.com")[-1]
    assert notice["Subject"].strip() == "Login no app indisponível"
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(.+)>", notice["List-Unsubscribe"].strip()).group(1)
    assert unsubscribe in notice.get_content()

    # The mail client's one-click button: a POST with no cookie and no CSRF token.
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(
        urlsplit(unsubscribe).path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    notices_for(incident.pk)
    assert len(smtp_server.to("ana@example.com")) == 2  # no all-clear after unsubscribing
