"""Notices to subscribers: when an incident shows, on resolve and for maintenance; once each."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone

from actions.models import Service
from incidents import services as incidents
from incidents.models import MaintenanceWindow
from notifications import fallback
from notifications.models import Delivery
from notifications.services import delivery_send
from notifications.tests.helpers import post
from notifications.tests.throttle_state import schedules_reset
from statuspage.models import Notice, NoticeRecord, Subscriber
from statuspage.notices import (
    NoticeRefused,
    incident_notices,
    maintenance_notices,
    notice_decide,
    notice_fan_out,
    notices_sweep,
)
from support.roles import CX_STAFF


@pytest.fixture
def mailbox(visible, settings):
    settings.CXHUB_EMAIL_PROVIDER = "locmem"
    fallback.outbox.clear()
    yield fallback.outbox
    fallback.outbox.clear()


def subscriber(email, *, services=None, language="pt-br", **fields):
    row = Subscriber.objects.create(
        email=email,
        language=language,
        whole_page=services is None,
        confirmed_at=timezone.now(),
        **fields,
    )
    row.services.set(services or [])
    return row


@pytest.fixture
def subscribers(visible):
    pix = Service.objects.get(slug="pix")
    pix.status_visible = True
    pix.save()
    return {
        "page": subscriber("page@example.com", language="en"),
        "login": subscriber("login@example.com", services=[visible["login"]]),
        "pix": subscriber("pix@example.com", services=[pix]),
        "gone": subscriber("gone@example.com", unsubscribed_at=timezone.now()),
    }


def fan_out_and_send():
    for notice in Notice.objects.filter(status="queued", fanned_out_at__isnull=True):
        notice_fan_out(notice.pk)
    for pk in Delivery.objects.filter(purpose="status_notice", status="pending").values_list(
        "pk", flat=True
    ):
        delivery_send(pk)


def received(mailbox):
    return sorted((address, m["subjects"][address]) for m in mailbox for address in m["to"])


def test_subscribers_of_the_service_hear_when_the_incident_shows_and_ends(
    mailbox, subscribers, integration
):
    incident = post(integration, times=4)
    assert incident_notices(incident.pk) == []  # below the push threshold: not visible yet
    incident = post(integration, times=1)
    (notice,) = incident_notices(incident.pk)
    assert notice.kind == "incident_visible" and notice.audience == 2
    fan_out_and_send()
    assert received(mailbox) == [
        ("login@example.com", "Login no app indisponível"),
        ("page@example.com", "Login no app unavailable"),
    ]
    (mail,) = mailbox  # one batch
    headers = mail["headers"]["login@example.com"]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/status/unsubscribe/")
    body = mail["bodies"]["login@example.com"]
    assert "Login no app está indisponível desde" in body and "Cancelar inscrição:" in body
    assert "/status/manage/" in body
    assert sorted(NoticeRecord.objects.values_list("subscriber__email", "status")) == [
        ("login@example.com", "sent"),
        ("page@example.com", "sent"),
    ]
    # Asked again (the signal and the sweep both look): nothing new.
    assert incident_notices(incident.pk) == [] and notices_sweep() == 0
    mailbox.clear()
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    (resolved,) = incident_notices(incident.pk)
    assert resolved.kind == "incident_resolved"
    fan_out_and_send()
    assert received(mailbox) == [
        ("login@example.com", "Login no app voltou a funcionar"),
        ("page@example.com", "Login no app working again"),
    ]


def test_an_incident_nobody_saw_resolves_without_a_notice(mailbox, subscribers, integration):
    incident = post(integration, times=1)
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    assert incident_notices(incident.pk) == [] and notices_sweep() == 0


def test_a_notice_is_sent_once_whatever_retries_or_duplicate_fan_outs(
    mailbox, subscribers, integration, settings
):
    settings.CXHUB_PUSH_BATCH_SIZE = 1
    (notice,) = incident_notices(post(integration).pk)
    assert notice_fan_out(notice.pk) == 2
    assert notice_fan_out(notice.pk) == 0  # claimed already
    batches = list(Delivery.objects.filter(purpose="status_notice"))
    for delivery in batches:
        delivery_send(delivery.pk)
    # A batch queued again (a lost outcome) finds its subscribers in the ledger.
    Delivery.objects.filter(pk=batches[0].pk).update(status="pending", claim=None)
    delivery_send(batches[0].pk)
    assert len(mailbox) == 2
    assert NoticeRecord.objects.count() == 2


def test_the_sweep_finds_what_a_lost_message_left(mailbox, subscribers, integration):
    post(integration)  # the signal's task is lost (no broker in this test)
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert notices_sweep() == 1  # the notice, its fan-out task lost too
        assert not Delivery.objects.filter(purpose="status_notice").exists()
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert notices_sweep() == 0
        assert Delivery.objects.filter(purpose="status_notice").count() == 1


def test_a_notice_is_throttled_at_the_providers_rate(mailbox, subscribers, integration, settings):
    settings.CXHUB_PUSH_RATE_LIMITS = {"email:locmem": 60}
    settings.CXHUB_PUSH_RATE_BURST_SECONDS = 0
    settings.CXHUB_PUSH_BATCH_SIZE = 1
    schedules_reset()
    (notice,) = incident_notices(post(integration).pk)
    notice_fan_out(notice.pk)
    for delivery in Delivery.objects.filter(purpose="status_notice"):
        delivery_send(delivery.pk)
    assert len(mailbox) == 1  # one a second: the other waits for its slot
    waiting = Delivery.objects.get(purpose="status_notice", status="pending")
    assert waiting.rate_slot_at is not None and "Send rate" in waiting.last_error


def maintenance(service, *, starts_in, hours=2, created=None, on_page=True):
    now = timezone.now()
    window = MaintenanceWindow.objects.create(
        service=service,
        starts_at=now + starts_in,
        ends_at=now + starts_in + timedelta(hours=hours),
        reason="internal reason never shown",
        status_visible=on_page,
    )
    if created:
        MaintenanceWindow.objects.filter(pk=window.pk).update(created_at=created)
    return window


def test_maintenance_is_announced_recalled_started_and_ended(mailbox, subscribers, visible):
    window = maintenance(visible["login"], starts_in=timedelta(days=1))
    kinds = [n.kind for n in maintenance_notices()]
    assert kinds == ["maint_announced"]
    fan_out_and_send()
    assert ("login@example.com", "Manutenção programada: Login no app") in received(mailbox)
    assert all("internal reason" not in b for m in mailbox for b in m["bodies"].values())
    start = window.starts_at
    for at, expected in [
        (start - timedelta(minutes=30), ["maint_reminder"]),
        (start + timedelta(minutes=1), ["maint_started"]),
        (window.ends_at + timedelta(minutes=1), ["maint_ended"]),
        (window.ends_at + timedelta(minutes=2), []),
    ]:
        with time_machine.travel(at):
            assert [n.kind for n in maintenance_notices()] == expected
    assert Notice.objects.filter(maintenance=window).count() == 4
    # Only the subscribers of the window's service hear of it.
    assert set(Notice.objects.filter(maintenance=window).values_list("audience", flat=True)) == {2}


def test_each_sunday_of_a_recurring_window_is_announced_a_week_ahead_and_recalled(
    mailbox, subscribers, visible
):
    from datetime import date, time

    from incidents.lifecycle.recurrence import recurrence_saved
    from incidents.models import RecurringMaintenance

    with time_machine.travel("2026-12-03T12:00:00Z", tick=False):  # a Thursday
        sundays = RecurringMaintenance.objects.create(
            service=visible["login"],
            rule="FREQ=WEEKLY;BYDAY=SU",
            starts_on=date(2026, 1, 1),
            start_time=time(2, 0),
            duration_minutes=120,
            time_zone="America/Sao_Paulo",
            reason="internal reason",
            status_visible=True,
        )
        recurrence_saved(sundays)
        assert MaintenanceWindow.objects.filter(recurrence=sundays).count() >= 5
        # Only the coming Sunday is announced, not the five Sundays written ahead.
        (announced,) = maintenance_notices()
        assert announced.maintenance.starts_at.isoformat() == "2026-12-06T05:00:00+00:00"
        fan_out_and_send()
    body = mailbox[0]["bodies"]["login@example.com"]
    assert "de 06/12/2026 02:00 UTC-0300 a 06/12/2026 04:00 UTC-0300" in body
    with time_machine.travel("2026-12-06T04:10:00Z", tick=False):  # 01:10 in São Paulo
        assert [n.kind for n in maintenance_notices()] == ["maint_reminder"]
    with time_machine.travel("2026-12-06T05:00:00Z", tick=False):  # the next is 7 days away
        kinds = sorted(n.kind for n in maintenance_notices())
        assert kinds == ["maint_announced", "maint_started"]


def test_a_window_on_a_service_not_on_the_page_says_nothing(mailbox, subscribers):
    hidden = Service.objects.create(slug="batch", name="Batch interno")
    maintenance(hidden, starts_in=timedelta(hours=3))
    assert maintenance_notices() == []


def test_a_window_not_marked_for_the_page_says_nothing(mailbox, subscribers, visible):
    maintenance(visible["login"], starts_in=timedelta(hours=3), on_page=False)
    assert maintenance_notices() == []


def test_a_notice_above_the_threshold_waits_for_a_second_person(
    mailbox, subscribers, integration, settings
):
    settings.CXHUB_PUSH_APPROVAL_THRESHOLD = 1
    (notice,) = incident_notices(post(integration).pk)
    assert notice.status == "held" and notice_fan_out(notice.pk) == 0
    from django.contrib.auth.models import Group

    approver = User.objects.create_user("ana", is_staff=True)
    approver.groups.add(Group.objects.get(name=CX_STAFF))
    stranger = User.objects.create_user("joe", is_staff=True)
    with pytest.raises(NoticeRefused):
        notice_decide(notice.pk, user=stranger, approve=True)
    Notice.objects.filter(pk=notice.pk).update(requested_by="ana")
    with pytest.raises(NoticeRefused, match="second person"):
        notice_decide(notice.pk, user=User.objects.get(username="ana"), approve=True)
    Notice.objects.filter(pk=notice.pk).update(requested_by="cxhub")
    notice_decide(notice.pk, user=User.objects.get(username="ana"), approve=True)
    with pytest.raises(NoticeRefused, match="already"):
        notice_decide(notice.pk, user=User.objects.get(username="ana"), approve=False)
    fan_out_and_send()
    assert len(received(mailbox)) == 2


def test_webhook_subscribers_get_signed_json_retried_through_the_engine(
    visible, integration, http_sink, settings
):
    hook = Subscriber.objects.create(
        kind="webhook",
        url=f"{http_sink.url}/hook",
        language="en",
        confirmed_at=timezone.now(),
    )
    assert hook.secret
    http_sink.fail_next = 1
    (notice,) = incident_notices(post(integration).pk)
    notice_fan_out(notice.pk)
    delivery = Delivery.objects.get(purpose="status_notice", provider="webhook")
    delivery_send(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1  # 503: retried
    Delivery.objects.filter(pk=delivery.pk).update(due_at=timezone.now())
    delivery_send(delivery.pk)
    (request,) = http_sink.requests
    body = json.loads(request["body"])
    assert body["kind"] == "incident_visible" and body["subject"] == "Login no app unavailable"
    expected = hmac.new(hook.secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Cxhub-Signature"] == f"sha256={expected}"
    assert request["headers"]["Idempotency-Key"] == delivery.key
    assert NoticeRecord.objects.get().status == "sent"


def test_a_webhook_to_an_internal_address_is_refused(visible, integration, settings):
    settings.CXHUB_OUTBOUND_ALLOW = []
    Subscriber.objects.create(
        kind="webhook", url="http://127.0.0.1:9/hook", confirmed_at=timezone.now()
    )
    (notice,) = incident_notices(post(integration).pk)
    notice_fan_out(notice.pk)
    delivery = Delivery.objects.get(purpose="status_notice")
    delivery_send(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "internal address" in delivery.last_error
    assert NoticeRecord.objects.get().status == "failed"


def test_the_timeline_hook_queues_the_notice_and_its_sends_after_commit(
    mailbox, subscribers, integration, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(integration)
    notice = Notice.objects.get(kind="incident_visible")
    assert notice.fanned_out_at is not None
    assert len(received(mailbox)) == 2  # the send tasks ran too (eager)


def test_a_held_notice_is_approved_from_the_admin(admin_client, mailbox, subscribers, integration):
    Notice.objects.all().delete()
    incident = post(integration)
    incident.policy["approval"] = {"threshold": 1}
    incident.save()
    (notice,) = incident_notices(incident.pk)
    assert notice.status == "held"
    page = admin_client.get(f"/admin/statuspage/notice/{notice.pk}/change/").content.decode()
    assert "Login no app indisponível" in page
    admin_client.post(
        "/admin/statuspage/notice/",
        {"action": "approve", "_selected_action": [str(notice.pk)]},
    )
    notice.refresh_from_db()
    assert (notice.status, notice.decided_by) == ("queued", "admin")


def test_a_reopen_is_told_once_as_down_again_and_its_resolve_once(
    mailbox, subscribers, integration, visible
):
    visible["action"].flap_minutes = 30
    visible["action"].save()
    incident = post(integration)
    incident_notices(incident.pk)
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    incident_notices(incident.pk)
    fan_out_and_send()
    mailbox.clear()
    reopened = post(integration, times=1)  # inside the flap window: the same incident
    assert reopened.pk == incident.pk and reopened.reopens == 1
    (again,) = incident_notices(incident.pk)
    assert again.kind == "incident_reopened" and again.key == f"incident:{incident.pk}:visible:g1"
    assert incident_notices(incident.pk) == [] and notices_sweep() == 0  # once per generation
    fan_out_and_send()
    assert received(mailbox) == [
        ("login@example.com", "Login no app indisponível novamente"),
        ("page@example.com", "Login no app unavailable again"),
    ]
    assert "is unavailable again since" in mailbox[0]["bodies"]["page@example.com"]
    mailbox.clear()
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    (over,) = incident_notices(incident.pk)
    assert over.kind == "incident_resolved" and over.key.endswith(":resolved:g1")
    fan_out_and_send()
    assert [subject for _address, subject in received(mailbox)] == [
        "Login no app voltou a funcionar",
        "Login no app working again",
    ]


def test_times_are_written_in_the_subscribers_zone_with_the_offset(
    mailbox, subscribers, integration, settings
):
    subscribers["page"].time_zone = "Asia/Tokyo"
    subscribers["page"].save()
    with time_machine.travel("2026-12-03T11:12:00Z", tick=False):
        incident = post(integration)
        incident_notices(incident.pk)
        fan_out_and_send()
    bodies = mailbox[0]["bodies"]
    # The bank's zone by default, in the subscriber's language: pt-BR, São Paulo.
    assert "desde 03/12/2026 08:12 UTC-0300." in bodies["login@example.com"]
    assert "since 2026-12-03 20:12 UTC+0900." in bodies["page@example.com"]
    notice = Notice.objects.get()
    assert notice.context == {"since": "2026-12-03T11:12:00+00:00"}
    # What the admin and webhooks show: the bank's zone.
    assert "2026-12-03 08:12 UTC-0300" in notice.texts["en"]["body"]
