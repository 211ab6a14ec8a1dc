"""Writes of the delivery side: queue pages and push batches, send them, retry."""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from cxhub.enqueue import enqueue_on_commit
from notifications.channels import DeliveryError, get_channel
from notifications.models import Channel, Delivery, Device, Team
from notifications.providers import get_push_provider

logger = logging.getLogger("cxhub.deliveries")


def deliveries_queue(deliveries: list[Delivery]) -> None:
    """Insert deliveries whose key is new and enqueue their sends on commit.

    A key that exists already (a retry, a race) is skipped by the unique
    constraint, and a send task for it finds nothing pending to claim.
    """
    from notifications.tasks import send_delivery

    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True, batch_size=500)
    for delivery in deliveries:
        enqueue_on_commit(send_delivery, str(delivery.id))


def incident_link(incident) -> str:
    """Return the incident's support page: its story, chart and acknowledge button."""
    path = reverse("support:incident", args=[incident.pk])
    return f"{settings.CXHUB_BASE_URL}{path}"


def page_tier(incident, tier: dict, *, now, repeat: int = 0) -> int:
    """Queue one page per enabled channel of the tier's team; return how many.

    Repeat number `repeat` (1, 2 ...) of a tier is a page of its own, with its own key.
    """
    from incidents.links import acknowledge_url

    channels = list(Channel.objects.filter(team_id=tier["team_id"], enabled=True))
    action = incident.action
    again = f", repeat {repeat}" if repeat else ""
    title = f"[cxhub] {action.code} {action.name}: tier {tier['level']} ({tier['name']}){again}"
    body = (
        f"{action.name} is failing: {incident.occurrences} occurrence(s) since "
        f"{timezone.localtime(incident.opened_at):%Y-%m-%d %H:%M %Z}. "
        f"Tier {tier['level']} ({tier['name']}) is paged. Incident: {incident_link(incident)} "
        f"Acknowledge: {acknowledge_url(incident)}"
    )
    suffix = f":r{repeat}" if repeat else ""
    deliveries_queue(
        [
            Delivery(
                key=f"page:{incident.pk}:{tier['level']}:{channel.pk}{suffix}",
                incident=incident,
                purpose=Delivery.Purpose.PAGE,
                tier_level=tier["level"],
                team_id=tier["team_id"],
                channel=channel,
                title=title,
                message=body,
                due_at=now,
            )
            for channel in channels
        ]
    )
    return len(channels)


def pages_cancel(incident, *, reason: str) -> int:
    """Cancel the incident's pages not yet sent (a page being sent finishes)."""
    return Delivery.objects.filter(
        incident=incident, purpose=Delivery.Purpose.PAGE, status=Delivery.Status.PENDING
    ).update(status=Delivery.Status.CANCELLED, last_error=reason)


def tell_paged_teams(incident, *, ref: str, title: str, message: str, now) -> int:
    """Queue one notice per channel that paged the incident; return how many.

    `ref` names the event told (its kind and id), so each event is told once per channel.
    """
    paged = (
        Delivery.objects.filter(
            incident=incident, purpose=Delivery.Purpose.PAGE, channel__isnull=False
        )
        .exclude(status=Delivery.Status.CANCELLED)
        .order_by()
        .values_list("channel_id", "team_id")
        .distinct()
    )
    notices = [
        Delivery(
            key=f"notice:{incident.pk}:{ref}:{channel_id}",
            incident=incident,
            purpose=Delivery.Purpose.NOTICE,
            team_id=team_id,
            channel_id=channel_id,
            title=title,
            message=message,
            due_at=now,
        )
        for channel_id, team_id in sorted(paged)
    ]
    deliveries_queue(notices)
    return len(notices)


def audience_device_ids(incident):
    """Stream the enabled devices of customers of the action's services, in id order."""
    services = incident.action.rules.values("service_id")
    return (
        Device.objects.filter(enabled=True, customer__services__in=services)
        .order_by("id")
        .values_list("id", flat=True)
        .distinct()
        .iterator(chunk_size=settings.CXHUB_PUSH_BATCH_SIZE)
    )


def _push_delivery(incident, batch_no: int, recipients: list, *, purpose, message, now):
    return Delivery(
        key=f"{purpose}:{incident.pk}:{batch_no}",
        incident=incident,
        purpose=purpose,
        provider=settings.CXHUB_PUSH_PROVIDER,
        title=incident.action.name,
        message=message,
        recipients=recipients,
        due_at=now,
    )


def push_fan_out(incident, *, now) -> int:
    """Queue the outage push to the audience in batches; return the number of batches.

    The audience is streamed, never loaded whole; batch numbers follow device id
    order, so a repeated fan-out produces the same keys and inserts nothing new.
    """
    size = settings.CXHUB_PUSH_BATCH_SIZE
    message = incident.policy.get("push_message") or incident.action.push_message
    batch, batches, pending = [], 0, []
    for device_id in audience_device_ids(incident):
        batch.append(device_id)
        if len(batch) == size:
            pending.append(
                _push_delivery(
                    incident,
                    batches,
                    batch,
                    purpose=Delivery.Purpose.PUSH,
                    message=message,
                    now=now,
                )
            )
            batch, batches = [], batches + 1
            if len(pending) >= 100:
                deliveries_queue(pending)
                pending = []
    if batch:
        pending.append(
            _push_delivery(
                incident, batches, batch, purpose=Delivery.Purpose.PUSH, message=message, now=now
            )
        )
        batches += 1
    deliveries_queue(pending)
    return batches


def all_clear_for(push: Delivery, *, now) -> Delivery:
    incident = push.incident
    batch_no = push.key.rsplit(":", 1)[1]
    message = incident.policy.get("all_clear_message") or incident.action.all_clear_message
    return _push_delivery(
        incident,
        batch_no,
        push.recipients,
        purpose=Delivery.Purpose.ALL_CLEAR,
        message=message,
        now=now,
    )


def push_wind_down(incident, *, now) -> tuple[int, int]:
    """On resolve: cancel push batches not yet sent, queue the all-clear for sent ones.

    A batch being sent right now gets its all-clear when its send succeeds.
    """
    pushes = Delivery.objects.filter(incident=incident, purpose=Delivery.Purpose.PUSH)
    cancelled = pushes.filter(status=Delivery.Status.PENDING).update(
        status=Delivery.Status.CANCELLED, last_error="The incident resolved before it was sent."
    )
    sent = list(pushes.filter(status=Delivery.Status.SENT).select_related("incident__action"))
    deliveries_queue([all_clear_for(push, now=now) for push in sent])
    return cancelled, len(sent)


def page_triage(alert, *, now) -> int:
    """Page the triage team about a service/code no action covers."""
    team = Team.objects.filter(slug=settings.CXHUB_TRIAGE_TEAM).first()
    if team is None:
        logger.warning("No triage team %r to tell about %s", settings.CXHUB_TRIAGE_TEAM, alert)
        return 0
    create_url = (
        f"{settings.CXHUB_BASE_URL}{reverse('admin:actions_action_add')}"
        f"?service={alert.service}&code={alert.code}"
    )
    channels = list(team.channels.filter(enabled=True))
    deliveries_queue(
        [
            Delivery(
                key=f"triage:{alert.pk}:{alert.pages}:{channel.pk}",
                purpose=Delivery.Purpose.TRIAGE,
                team=team,
                channel=channel,
                title=f"[cxhub] No action covers {alert.service}/{alert.code}",
                message=(
                    f"{alert.occurrences} trigger(s) of {alert.service}/{alert.code} since "
                    f"{timezone.localtime(alert.first_seen_at):%Y-%m-%d %H:%M %Z} match no "
                    f"action. Create one: {create_url}"
                ),
                due_at=now,
            )
            for channel in channels
        ]
    )
    return len(channels)


def team_send_test_page(team: Team, *, by: str, now=None) -> int:
    """Queue a test page to every enabled channel of a team; return how many.

    Each request gets its own keys, so asking again sends again; the pages go
    through the same send task, channels and retries as real ones.
    """
    now = now or timezone.now()
    request_id = uuid.uuid4().hex
    channels = list(team.channels.filter(enabled=True))
    deliveries_queue(
        [
            Delivery(
                key=f"test-page:{team.pk}:{channel.pk}:{request_id}",
                purpose=Delivery.Purpose.PAGE,
                team=team,
                channel=channel,
                title=f"[cxhub] Test page for {team.name}",
                message=f"This is a test page sent by {by} from the cxhub admin. "
                "If you read it, this channel works.",
                due_at=now,
            )
            for channel in channels
        ]
    )
    return len(channels)


def device_send_test_push(device: Device, *, by: str, now=None) -> Delivery:
    """Queue a test push to one device through the configured push provider."""
    now = now or timezone.now()
    delivery = Delivery(
        key=f"test-push:{device.pk}:{uuid.uuid4().hex}",
        purpose=Delivery.Purpose.PUSH,
        provider=settings.CXHUB_PUSH_PROVIDER,
        title="cxhub",
        message=f"Test push from cxhub (sent by {by}).",
        recipients=[device.pk],
        due_at=now,
    )
    deliveries_queue([delivery])
    return delivery


def backoff(attempts: int) -> timedelta:
    """Return the wait before retry number `attempts`: 2, 4, 8 ... seconds, at most 5 min."""
    return timedelta(seconds=min(2**attempts, 300))


def delivery_send(delivery_id) -> Delivery | None:
    """Claim a due pending delivery, send it, and record the outcome.

    Returns the delivery, or None when another worker got there first or it is
    not due. The network call happens outside any transaction.
    """
    from incidents.models import Incident, TimelineEvent
    from incidents.services import event_add

    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.PENDING, due_at__lte=now
    ).update(status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("incident__action", "channel").get(pk=delivery_id)
    try:
        _send(delivery)
    except DeliveryError as exc:
        error = exc
    except Exception as exc:  # a bug or an unexpected library error: keep the row honest
        logger.exception("Unexpected error sending delivery %s", delivery_id)
        error = DeliveryError(f"{exc.__class__.__name__}: {exc}")
    else:
        error = None

    done = timezone.now()
    mine = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING)
    with transaction.atomic():
        if error is None:
            mine.update(status=Delivery.Status.SENT, sent_at=done, last_error="")
            delivery.status = Delivery.Status.SENT
            kind, detail = TimelineEvent.Kind.DELIVERY_SENT, _describe(delivery)
            if (
                delivery.purpose == Delivery.Purpose.PUSH
                and delivery.incident_id  # a test push has no incident
                and delivery.incident.status == Incident.Status.RESOLVED
            ):
                deliveries_queue([all_clear_for(delivery, now=done)])
        elif error.permanent or delivery.attempts >= settings.CXHUB_DELIVERY_MAX_ATTEMPTS:
            mine.update(status=Delivery.Status.FAILED, last_error=error.message)
            delivery.status = Delivery.Status.FAILED
            kind = TimelineEvent.Kind.DELIVERY_FAILED
            detail = f"{_describe(delivery)}: {error.message} (attempt {delivery.attempts})"
        else:
            retry_at = done + backoff(delivery.attempts)
            mine.update(status=Delivery.Status.PENDING, last_error=error.message, due_at=retry_at)
            delivery.status = Delivery.Status.PENDING
            kind = TimelineEvent.Kind.DELIVERY_RETRY
            detail = f"{_describe(delivery)}: {error.message} (attempt {delivery.attempts})"
            from notifications.tasks import send_delivery

            enqueue_on_commit(
                send_delivery, str(delivery.pk), countdown=backoff(delivery.attempts).seconds
            )
        if delivery.incident_id:
            event_add(delivery.incident, kind, detail, at=done)
    delivery.last_error = "" if error is None else error.message
    return delivery


def _describe(delivery: Delivery) -> str:
    if delivery.purpose in (Delivery.Purpose.PUSH, Delivery.Purpose.ALL_CLEAR):
        return f"{delivery.get_purpose_display()} to {len(delivery.recipients)} device(s)"
    return f"{delivery.get_purpose_display()} to {delivery.team} via {delivery.channel.kind}"


def _send(delivery: Delivery) -> None:
    if delivery.purpose in (Delivery.Purpose.PUSH, Delivery.Purpose.ALL_CLEAR):
        devices = list(
            Device.objects.filter(pk__in=delivery.recipients, enabled=True).select_related(
                "customer"
            )
        )
        if devices:
            get_push_provider().send(
                devices=devices,
                title=delivery.title,
                body=delivery.message,
                reference=delivery.key,
            )
        return
    if delivery.channel is None:
        raise DeliveryError("The channel was deleted", permanent=True)
    get_channel(delivery.channel.kind).send(
        target=delivery.channel.target, title=delivery.title, body=delivery.message
    )


def deliveries_requeue(*, now) -> int:
    """Re-enqueue pending deliveries nobody sent and release claims of dead workers."""
    from notifications.tasks import send_delivery

    stale = now - settings.CXHUB_STALE_AFTER
    Delivery.objects.filter(
        status=Delivery.Status.SENDING, claimed_at__lte=now - settings.CXHUB_DELIVERY_LEASE
    ).update(status=Delivery.Status.PENDING, due_at=now - settings.CXHUB_STALE_AFTER)
    due = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING)
        .filter(Q(due_at__lte=stale) | Q(attempts__gt=0, due_at__lte=now))
        .values_list("id", flat=True)[:1000]
    )
    for delivery_id in due:
        send_delivery.delay(str(delivery_id))
    return len(due)


def customer_upsert(*, external_id, locale, services, devices):
    """Create or update a customer, replacing its services and devices."""
    from actions.models import Service
    from notifications.models import Customer

    customer, created = Customer.objects.update_or_create(
        external_id=external_id, defaults={"locale": locale}
    )
    customer.services.set(Service.objects.filter(slug__in=services))
    tokens = [device["token"] for device in devices]
    customer.devices.exclude(token__in=tokens).delete()
    for device in devices:
        Device.objects.update_or_create(
            token=device["token"],
            defaults={"customer": customer, "platform": device["platform"], "enabled": True},
        )
    return customer, created
