"""Writes of the delivery side: queue pages and push batches, send them, retry."""

import logging
import uuid
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from cxhub.enqueue import enqueue_on_commit
from notifications.audiences import audience_of, text_for, texts_of
from notifications.channels import DeliveryError, get_channel
from notifications.models import (
    Channel,
    Customer,
    Delivery,
    Device,
    PushRecord,
    PushSwitch,
    Tag,
    Team,
)
from notifications.providers import PushMessage, get_push_provider
from notifications.selectors import audience_devices

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


def _queue_batches(incident, device_ids, *, purpose, key_prefix, message, now) -> int:
    """Cut a stream of device ids into push batches, queued 100 batches at a time.

    Batch numbers follow the stream's order, so a repeated fan-out produces the
    same keys and inserts nothing new.
    """
    size = settings.CXHUB_PUSH_BATCH_SIZE
    provider = incident.policy.get("provider") or settings.CXHUB_PUSH_PROVIDER
    batch, batches, pending = [], 0, []

    def cut():
        pending.append(
            Delivery(
                key=f"{key_prefix}:{batches}",
                incident=incident,
                purpose=purpose,
                provider=provider,
                title=incident.action.name,
                message=message,
                recipients=batch,
                size=len(batch),
                due_at=now,
            )
        )

    for device_id in device_ids:
        batch.append(device_id)
        if len(batch) == size:
            cut()
            batch, batches = [], batches + 1
            if len(pending) >= 100:
                deliveries_queue(pending)
                pending = []
    if batch:
        cut()
        batches += 1
    deliveries_queue(pending)
    return batches


def push_variables(incident) -> dict:
    """Return the values a push text may use: {service}, {action}, {started_at}, {link}."""
    from actions.models import Service

    service_ids = (incident.policy.get("audience") or {}).get("service_ids") or list(
        incident.action.rules.values_list("service_id", flat=True)
    )
    names = sorted(Service.objects.filter(pk__in=service_ids).values_list("name", flat=True))
    return {
        "service": ", ".join(names) or incident.action.name,
        "action": incident.action.name,
        "started_at": f"{timezone.localtime(incident.opened_at):%d/%m/%Y %H:%M}",
        "link": incident_link(incident),
    }


def _texts(incident) -> dict:
    return incident.policy.get("texts") or texts_of(incident.action)


def push_fan_out(incident, *, now) -> int:
    """Queue the outage push to the audience in batches; return the number of batches.

    The audience is streamed from the database in device id order, never loaded whole.
    """
    audience = incident.policy.get("audience") or audience_of(incident.action)
    device_ids = (
        audience_devices(audience)
        .order_by("id")
        .values_list("id", flat=True)
        .iterator(chunk_size=max(settings.CXHUB_PUSH_BATCH_SIZE, 2000))
    )
    message = text_for(_texts(incident), "outage", "", push_variables(incident))
    return _queue_batches(
        incident,
        device_ids,
        purpose=Delivery.Purpose.PUSH,
        key_prefix=f"push:{incident.pk}",
        message=message,
        now=now,
    )


def all_clear_fan_out(incident, *, now, key_prefix=None, device_ids=None) -> int:
    """Queue the all-clear for the devices the outage push reached (the ledger says which)."""
    if device_ids is None:
        device_ids = (
            PushRecord.objects.filter(
                incident=incident,
                purpose=PushRecord.Purpose.OUTAGE,
                status=PushRecord.Status.SENT,
                device__isnull=False,
            )
            .order_by("device_id")
            .values_list("device_id", flat=True)
            .iterator(chunk_size=max(settings.CXHUB_PUSH_BATCH_SIZE, 2000))
        )
    message = text_for(_texts(incident), "all_clear", "", push_variables(incident))
    return _queue_batches(
        incident,
        device_ids,
        purpose=Delivery.Purpose.ALL_CLEAR,
        key_prefix=key_prefix or f"all_clear:{incident.pk}",
        message=message,
        now=now,
    )


def push_wind_down(incident, *, now) -> tuple[int, int]:
    """On resolve: cancel push batches not yet sent, queue the all-clear for sent devices.

    A batch being sent right now gets its all-clear when its send finishes (see
    delivery_send); the ledger's unique constraint keeps a device from getting two.
    """
    pushes = Delivery.objects.filter(incident=incident, purpose=Delivery.Purpose.PUSH)
    cancelled = pushes.filter(status=Delivery.Status.PENDING).update(
        status=Delivery.Status.CANCELLED, last_error="The incident resolved before it was sent."
    )
    return cancelled, all_clear_fan_out(incident, now=now)


def pushes_stopped(action_id) -> str:
    """Return why customer pushes of an action must not go out now, or ''."""
    from actions.models import Action

    if settings.CXHUB_PUSH_KILL_SWITCH:
        return "Stopped by the kill switch (CXHUB_PUSH_KILL_SWITCH)."
    if PushSwitch.objects.filter(paused=True).exists():
        return "Stopped by the global push kill switch."
    if Action.objects.filter(pk=action_id, push_paused=True).exists():
        return "Stopped by the action's push kill switch."
    return ""


def pushes_cancel_queued(*, action_id=None, reason: str) -> int:
    """Cancel every queued (pending) customer push, of one action or all; return how many."""
    queued = Delivery.objects.filter(
        purpose__in=[Delivery.Purpose.PUSH, Delivery.Purpose.ALL_CLEAR],
        status=Delivery.Status.PENDING,
    )
    if action_id is not None:
        queued = queued.filter(incident__action_id=action_id)
    return queued.update(status=Delivery.Status.CANCELLED, last_error=reason)


def push_switch_set(*, paused: bool, by: str) -> int:
    """Flip the global kill switch; pausing cancels queued pushes at once."""
    PushSwitch.objects.update_or_create(
        pk=1, defaults={"paused": paused, "changed_by": by, "changed_at": timezone.now()}
    )
    if not paused:
        return 0
    return pushes_cancel_queued(reason=f"Stopped by the global push kill switch ({by}).")


def page_triage(alert, *, now) -> int:
    """Page the triage team about a service/code no action covers."""
    team = Team.objects.filter(slug=settings.CXHUB_TRIAGE_TEAM).first()
    if team is None:
        logger.warning("No triage team %r to tell about %s", settings.CXHUB_TRIAGE_TEAM, alert)
        return 0
    create_url = (
        f"{settings.CXHUB_BASE_URL}{reverse('admin:actions_action_add')}"
        f"?{urlencode({'service': alert.service, 'code': alert.code})}"
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


class PushCancelled(DeliveryError):
    """A kill switch stopped a push batch: it is cancelled, not sent."""


def delivery_send(delivery_id) -> Delivery | None:
    """Claim a due pending delivery, send it, and record the outcome.

    Returns the delivery, or None when another worker got there first or it is
    not due. The network call happens outside any transaction.
    """
    from incidents.models import TimelineEvent
    from incidents.services import event_add

    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.PENDING, due_at__lte=now
    ).update(status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("incident__action", "channel").get(pk=delivery_id)
    summary = ""
    try:
        summary = _send(delivery) or ""
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
        if isinstance(error, PushCancelled):
            mine.update(status=Delivery.Status.CANCELLED, last_error=error.message)
            delivery.status = Delivery.Status.CANCELLED
            kind, detail = None, ""
        elif error is None:
            mine.update(status=Delivery.Status.SENT, sent_at=done, last_error="")
            delivery.status = Delivery.Status.SENT
            kind, detail = TimelineEvent.Kind.DELIVERY_SENT, _describe(delivery) + summary
        elif error.permanent or delivery.attempts >= settings.CXHUB_DELIVERY_MAX_ATTEMPTS:
            mine.update(status=Delivery.Status.FAILED, last_error=error.message)
            delivery.status = Delivery.Status.FAILED
            kind = TimelineEvent.Kind.DELIVERY_FAILED
            detail = f"{_describe(delivery)}: {error.message} (attempt {delivery.attempts})"
            PushRecord.objects.filter(delivery=delivery, status=PushRecord.Status.PENDING).update(
                status=PushRecord.Status.FAILED, error=error.message
            )
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
        if (
            delivery.purpose == Delivery.Purpose.PUSH
            and delivery.incident_id  # a test push has no incident
            and not isinstance(error, PushCancelled)
        ):
            _all_clear_if_resolved(delivery, now=done)
        if delivery.incident_id and kind:
            event_add(delivery.incident, kind, detail, at=done)
    delivery.last_error = "" if error is None else error.message
    return delivery


def _all_clear_if_resolved(delivery: Delivery, *, now) -> None:
    """Queue the all-clear for what a push batch sent if its incident resolved meanwhile.

    Locking the incident orders this with a concurrent resolve: either the resolve's
    all-clear fan-out saw this batch's ledger rows, or this sees the resolve. The
    ledger's unique constraint keeps a device from getting the all-clear twice.
    """
    from incidents.models import Incident

    status = (
        Incident.objects.select_for_update()
        .filter(pk=delivery.incident_id)
        .values_list("status", flat=True)
        .first()
    )
    if status != Incident.Status.RESOLVED:
        return
    all_clear_fan_out(
        delivery.incident,
        now=now,
        key_prefix=f"all_clear:{delivery.incident_id}:late:{delivery.key}:{delivery.attempts}",
        device_ids=PushRecord.objects.filter(delivery=delivery, status=PushRecord.Status.SENT)
        .exclude(device=None)
        .order_by("device_id")
        .values_list("device_id", flat=True),
    )


def _describe(delivery: Delivery) -> str:
    if delivery.purpose in (Delivery.Purpose.PUSH, Delivery.Purpose.ALL_CLEAR):
        return f"{delivery.get_purpose_display()} batch of {len(delivery.recipients)} device(s)"
    return f"{delivery.get_purpose_display()} to {delivery.team} via {delivery.channel.kind}"


def _send(delivery: Delivery) -> str:
    if delivery.purpose in (Delivery.Purpose.PUSH, Delivery.Purpose.ALL_CLEAR):
        return push_batch_send(delivery)
    if delivery.channel is None:
        raise DeliveryError("The channel was deleted", permanent=True)
    get_channel(delivery.channel.kind).send(
        target=delivery.channel.target, title=delivery.title, body=delivery.message
    )
    return ""


def push_batch_send(delivery: Delivery) -> str:
    """Send a claimed push batch device by device, recording each in the ledger.

    Ledger rows are inserted first (pending); the unique (incident, device,
    purpose) lets only one batch own a device, so the rows this delivery owns
    are exactly what it may send, on a retry too. Returns a summary for the timeline.
    """
    incident = delivery.incident
    reason = pushes_stopped(incident.action_id if incident else None)
    if reason:
        raise PushCancelled(reason, permanent=True)
    provider = get_push_provider(delivery.provider)
    if incident is None:
        # A test push from the admin: one chosen device, no audience, cap or ledger.
        devices = Device.objects.filter(pk__in=delivery.recipients).select_related("customer")
        failures = provider.send(
            messages=[PushMessage(device=d, body=delivery.message) for d in devices],
            title=delivery.title,
            reference=delivery.key,
        )
        if failures:
            raise DeliveryError(next(iter(failures.values())).error, permanent=True)
        return ""
    purpose = (
        PushRecord.Purpose.OUTAGE
        if delivery.purpose == Delivery.Purpose.PUSH
        else PushRecord.Purpose.ALL_CLEAR
    )
    devices = Device.objects.filter(pk__in=delivery.recipients, enabled=True)
    if purpose == PushRecord.Purpose.ALL_CLEAR:
        # Only devices the outage push actually reached hear that it is over.
        devices = devices.filter(
            pk__in=PushRecord.objects.filter(
                incident=incident,
                purpose=PushRecord.Purpose.OUTAGE,
                status=PushRecord.Status.SENT,
            ).values("device_id")
        )
    texts, variables, now = _texts(incident), push_variables(incident), timezone.now()
    PushRecord.objects.bulk_create(
        [
            PushRecord(
                incident=incident,
                delivery=delivery,
                customer=device.customer,
                customer_ref=device.customer.external_id,
                device=device,
                token_tail=device.token[-8:],
                platform=device.platform,
                locale=device.customer.locale,
                purpose=purpose,
                message=text_for(texts, purpose, device.customer.locale, variables),
                provider=provider.name,
                created_at=now,
            )
            for device in devices.select_related("customer")
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    mine = PushRecord.objects.filter(delivery=delivery, status=PushRecord.Status.PENDING)
    if purpose == PushRecord.Purpose.OUTAGE:
        _apply_frequency_cap(incident, mine, now=now)
    records = list(mine.exclude(device=None).select_related("device__customer"))
    if not records:
        return ": nothing left to send"
    try:
        failures = provider.send(
            messages=[PushMessage(device=r.device, body=r.message) for r in records],
            title=delivery.title,
            reference=delivery.key,
        )
    except DeliveryError as exc:
        if exc.permanent:
            mine.update(status=PushRecord.Status.FAILED, error=exc.message)
        raise  # a transient error leaves the rows pending for the retry
    done = timezone.now()
    mine.exclude(device_id__in=list(failures)).update(status=PushRecord.Status.SENT, sent_at=done)
    retry = {d: f for d, f in failures.items() if f.transient and not f.unregistered}
    by_error = defaultdict(list)
    for device_id, failure in failures.items():
        if device_id not in retry:
            by_error[failure.error].append(device_id)
    for error, device_ids in by_error.items():
        mine.filter(device_id__in=device_ids).update(status=PushRecord.Status.FAILED, error=error)
    dead = {device_id: f.error for device_id, f in failures.items() if f.unregistered}
    devices_disable(dead, provider=provider.name, now=done)
    if retry:
        # Their rows stay pending: the batch's retry sends to them, and only to them.
        sample = next(iter(retry.values())).error
        raise DeliveryError(
            f"{len(retry)} of {len(records)} device(s) failed transiently (e.g. {sample}); "
            f"{len(records) - len(failures)} sent"
        )
    return f": {len(records) - len(failures)} sent, {len(failures)} failed, {len(dead)} disabled"


def _apply_frequency_cap(incident, records, *, now) -> None:
    """Mark pending outage records of capped customers as skipped, claiming the rest.

    A customer may get an outage push when their last one is older than the window
    or came from this same incident (their other devices, a retry). The customers
    are locked in id order while claimed, so concurrent batches cannot both pass.
    """
    customer_ids = sorted(set(records.values_list("customer_id", flat=True)) - {None})
    if not customer_ids:
        return
    window_start = now - settings.CXHUB_PUSH_CAP_WINDOW
    with transaction.atomic():
        rows = list(
            Customer.objects.select_for_update()
            .filter(pk__in=customer_ids)
            .order_by("pk")
            .values_list("pk", "last_outage_push_at", "last_outage_incident_id")
        )
        fresh = {pk for pk, at, _ in rows if at is None or at < window_start}
        same = {pk for pk, _, last_incident in rows if last_incident == incident.pk}
        capped = set(customer_ids) - fresh - same
        Customer.objects.filter(pk__in=fresh).update(
            last_outage_push_at=now, last_outage_incident=incident
        )
        if capped:
            records.filter(customer_id__in=capped).update(
                status=PushRecord.Status.CAPPED,
                error=f"The customer got an outage push less than "
                f"{settings.CXHUB_PUSH_CAP_WINDOW} ago.",
            )


def devices_disable(dead: dict, *, provider: str, now) -> int:
    """Disable devices whose token the provider reported dead ({device id: error})."""
    by_error = defaultdict(list)
    for device_id, error in dead.items():
        by_error[error].append(device_id)
    disabled = 0
    for error, device_ids in by_error.items():
        disabled += Device.objects.filter(pk__in=device_ids, enabled=True).update(
            enabled=False, disabled_at=now, disabled_reason=f"{provider}: {error}"[:200]
        )
    return disabled


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


def customers_upsert(items: list[dict], *, replace: bool = True) -> dict:
    """Create or update customers with their services, tags and devices, in bulk.

    Each item has external_id, locale and lists services (slugs), tags (slugs) and
    devices ({platform, token}). A constant number of queries per call, whatever
    the number of items. `replace` makes the lists given replace the stored ones
    (the API); without it they are added (a CSV import whose rows for one customer
    may fall in different batches). A token moves to the customer that lists it;
    a device the provider disabled stays disabled (a new token is a new device).
    """
    from actions.models import Service

    by_external = {item["external_id"]: item for item in items}  # the last one wins
    existing = set(
        Customer.objects.filter(external_id__in=by_external).values_list("external_id", flat=True)
    )
    Customer.objects.bulk_create(
        [Customer(external_id=ext, locale=item["locale"]) for ext, item in by_external.items()],
        update_conflicts=True,
        unique_fields=["external_id"],
        update_fields=["locale", "updated_at"],
        batch_size=500,
    )
    ids = dict(
        Customer.objects.filter(external_id__in=by_external).values_list("external_id", "id")
    )
    slugs = {slug for item in by_external.values() for slug in item.get("tags", [])}
    Tag.objects.bulk_create([Tag(slug=slug) for slug in slugs], ignore_conflicts=True)
    tag_ids = dict(Tag.objects.filter(slug__in=slugs).values_list("slug", "id"))
    service_ids = dict(
        Service.objects.filter(
            slug__in={slug for item in by_external.values() for slug in item.get("services", [])}
        ).values_list("slug", "id")
    )
    links = (
        (Customer.services.through, "service_id", "services", service_ids),
        (Customer.tags.through, "tag_id", "tags", tag_ids),
    )
    for through, column, field, known in links:
        if replace:
            through.objects.filter(customer_id__in=ids.values()).delete()
        through.objects.bulk_create(
            [
                through(customer_id=ids[ext], **{column: known[slug]})
                for ext, item in by_external.items()
                for slug in set(item.get(field, []))
                if slug in known
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
    devices = {
        device["token"]: Device(
            customer_id=ids[ext], platform=device["platform"], token=device["token"]
        )
        for ext, item in by_external.items()
        for device in item.get("devices", [])
    }
    if replace:
        Device.objects.filter(customer_id__in=ids.values()).exclude(token__in=devices).delete()
    Device.objects.bulk_create(
        list(devices.values()),
        update_conflicts=True,
        unique_fields=["token"],
        update_fields=["customer", "platform"],
        batch_size=500,
    )
    return {
        "created": len(set(by_external) - existing),
        "updated": len(set(by_external) & existing),
        "devices": len(devices),
    }


def customer_upsert(*, external_id, locale, services, devices, tags=()):
    """Create or update one customer, replacing its services, tags and devices."""
    result = customers_upsert(
        [
            {
                "external_id": external_id,
                "locale": locale,
                "services": services,
                "tags": list(tags),
                "devices": devices,
            }
        ]
    )
    return Customer.objects.get(external_id=external_id), bool(result["created"])
