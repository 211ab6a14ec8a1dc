import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from conftest import post_original
from incidents.models import Incident
from incidents.outreach.pushes import push_fan_out
from notifications import deliveries as engine
from notifications.channels import DeliveryError, locmem
from notifications.models import Channel, Delivery, Team
from notifications.services import deliveries_requeue, delivery_send


def page(db_team=None, kind="locmem", target="n1", key="page:test"):
    team = db_team or Team.objects.create(slug="n1", name="Analista N1")
    channel = Channel.objects.create(team=team, kind=kind, target=target)
    return Delivery.objects.create(
        key=key,
        purpose=Delivery.Purpose.PAGE,
        team=team,
        channel=channel,
        title="title",
        message="body",
        due_at=timezone.now(),
    )


def test_a_delivery_is_claimed_and_sent_once(db):
    delivery = page()
    assert delivery_send(delivery.pk).status == Delivery.Status.SENT
    assert delivery_send(delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.sent_at is not None
    assert locmem.outbox == [{"target": "n1", "title": "title", "body": "body", "key": "page:test"}]


def test_the_same_key_cannot_be_queued_twice(db):
    page()
    try:
        with transaction.atomic():
            page(db_team=Team.objects.get(), key="page:test")
    except IntegrityError:
        pass
    assert Delivery.objects.count() == 1


def test_transient_error_is_retried_with_backoff(db):
    delivery = page()
    locmem.failures.append(DeliveryError("503 from Slack"))
    result = delivery_send(delivery.pk)
    assert result.status == Delivery.Status.PENDING
    delivery.refresh_from_db()
    assert delivery.last_error == "503 from Slack"
    assert delivery.due_at > timezone.now()
    assert delivery_send(delivery.pk) is None  # not due yet
    with time_machine.travel(delivery.due_at + timedelta(seconds=1)):
        assert delivery_send(delivery.pk).status == Delivery.Status.SENT
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert len(locmem.outbox) == 1


def test_permanent_error_fails_at_once(db):
    delivery = page()
    locmem.failures.append(DeliveryError("bad URL", permanent=True))
    assert delivery_send(delivery.pk).status == Delivery.Status.FAILED


def test_attempts_are_bounded(db, settings):
    settings.CXHUB_DELIVERY_MAX_ATTEMPTS = 2
    delivery = page()
    locmem.failures.extend([DeliveryError("x"), DeliveryError("y")])
    delivery_send(delivery.pk)
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert delivery_send(delivery.pk).status == Delivery.Status.FAILED


def test_sweep_releases_the_claim_of_a_dead_worker(
    db, settings, eager_celery, django_capture_on_commit_callbacks
):
    delivery = page()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENDING, claimed_at=timezone.now(), attempts=1
    )
    assert deliveries_requeue(now=timezone.now()) == 0
    later = timezone.now() + settings.CXHUB_DELIVERY_LEASE + timedelta(seconds=1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert deliveries_requeue(now=timezone.now()) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert len(locmem.outbox) == 1


def test_the_sweep_publishes_a_queued_delivery_again_only_after_a_lease(
    db, settings, django_capture_on_commit_callbacks
):
    delivery = page()
    # Queued now: its task is in the broker, or lost.
    Delivery.objects.filter(pk=delivery.pk).update(queued_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False) as published:
        for _ in range(5):
            assert deliveries_requeue(now=timezone.now()) == 0
    assert published == []
    later = timezone.now() + settings.CXHUB_DELIVERY_LEASE + timedelta(seconds=1)
    with time_machine.travel(later), django_capture_on_commit_callbacks() as published:
        assert deliveries_requeue(now=timezone.now()) == 1
        assert deliveries_requeue(now=timezone.now()) == 0  # just published again
    assert len(published) == 1


def test_a_paused_send_whose_claim_was_handed_on_does_not_send(db, monkeypatch):
    delivery = page()
    check = engine.still_claimed

    def paused_past_the_lease(d):
        # While this attempt was paused, the sweep released it and another claimed it.
        Delivery.objects.filter(pk=d.pk).update(claim=uuid.uuid4())
        return check(d)

    monkeypatch.setattr(engine, "still_claimed", paused_past_the_lease)
    assert delivery_send(delivery.pk) is None
    assert locmem.outbox == []
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENDING  # the new holder's to record


def test_an_outcome_is_recorded_only_by_the_attempt_holding_the_claim(db, monkeypatch):
    delivery = page()

    def lease_runs_out_mid_send(self, **kwargs):
        # The sweep hands the row to another attempt while this one is on the wire.
        Delivery.objects.filter(pk=delivery.pk).update(claim=uuid.uuid4())
        locmem.outbox.append(kwargs)

    monkeypatch.setattr(locmem.LocmemChannel, "send", lease_runs_out_mid_send)
    assert delivery_send(delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENDING  # the new holder records it
    assert locmem.outbox[0]["key"] == "page:test"  # the receiver can drop a copy by it


def test_apprise_channel_posts_to_a_json_webhook(db, http_sink):
    target = http_sink.url.replace("http://", "json://") + "/hooks/n1"
    delivery = page(kind="apprise", target=target)
    assert delivery_send(delivery.pk).status == Delivery.Status.SENT
    [body] = http_sink.json("/hooks/n1")
    assert body["title"] == "title"
    assert body["message"] == "body"
    [request] = http_sink.requests
    assert request["headers"]["Idempotency-Key"] == "page:test"


def test_apprise_channel_retries_when_the_webhook_fails(db, http_sink):
    http_sink.fail_next = 1
    target = http_sink.url.replace("http://", "json://") + "/hooks/n1"
    delivery = page(kind="apprise", target=target)
    assert delivery_send(delivery.pk).status == Delivery.Status.PENDING


def test_webhook_push_provider_posts_a_signed_batch(scenario, settings, http_sink):
    settings.CXHUB_PUSH_PROVIDER = "webhook"
    settings.CXHUB_PUSH_WEBHOOK_URL = f"{http_sink.url}/push"
    settings.CXHUB_PUSH_WEBHOOK_SECRET = "s3cret"
    post_original(5)
    push = Delivery.objects.get(purpose="push")
    assert delivery_send(push.pk).status == Delivery.Status.SENT
    [request] = http_sink.requests
    expected = hmac.new(b"s3cret", request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Cxhub-Signature"] == f"sha256={expected}"
    body = json.loads(request["body"])
    assert sorted(r["device"] for r in body["recipients"]) == ["tok-c1-a", "tok-c1-b", "tok-c2"]
    assert body["reference"] == push.key


def test_push_batches_follow_the_batch_size(scenario, settings):
    settings.CXHUB_PUSH_BATCH_SIZE = 2
    post_original(1)
    incident = Incident.objects.get()
    assert push_fan_out(incident, now=timezone.now()) == 2
    assert push_fan_out(incident, now=timezone.now()) == 2  # same keys: nothing new
    batches = Delivery.objects.filter(purpose="push").order_by("key")
    assert [len(b.recipients) for b in batches] == [2, 1]
