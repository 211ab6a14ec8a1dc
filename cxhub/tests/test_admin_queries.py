"""Every admin list page costs the same number of queries for 3 rows as for 30 (no N+1)."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.models import Action, PushTemplate, Service, Tier, TriggerRule
from incidents.models import (
    AlertInstance,
    Incident,
    Integration,
    MaintenanceWindow,
    Report,
    TimelineEvent,
    TriageAlert,
    Trigger,
)
from notifications.models import Channel, Customer, Delivery, Device, PushRecord, Tag, Team

pytestmark = pytest.mark.django_db


def populate(n: int, prefix: str) -> None:
    """Add n rows of every model the admin lists, each with the relations its list shows."""
    now = timezone.now()
    for i in range(n):
        key = f"{prefix}{i}"
        service = Service.objects.create(slug=f"s-{key}", name=f"Service {key}")
        team = Team.objects.create(slug=f"t-{key}", name=f"Team {key}")
        channel = Channel.objects.create(team=team, kind="locmem", target=key)
        tag = Tag.objects.create(slug=f"tag-{key}")
        action = Action.objects.create(code=f"A{key}", name=f"Action {key}", push_threshold=5)
        action.audience_tags.add(tag)
        TriggerRule.objects.create(action=action, service=service, code="503")
        TriggerRule.objects.create(action=action, service=service, code="5xx")
        Tier.objects.create(action=action, level=1, name="N1", team=team, after_occurrences=3)
        PushTemplate.objects.create(action=action, purpose="outage", locale="en", text="down")
        integration = Integration(name=f"i-{key}")
        integration.set_new_token()
        integration.save()
        incident = Incident.objects.create(
            action=action, occurrences=1, opened_at=now, last_occurrence_at=now, policy={}
        )
        report = Report.objects.create(integration=integration, received_at=now, payload={})
        Trigger.objects.create(
            report=report,
            service=service.slug,
            code="503",
            received_at=now,
            matched=True,
            incident=incident,
        )
        TimelineEvent.objects.create(incident=incident, at=now, kind="opened", detail="x")
        TriageAlert.objects.create(
            service=service.slug, code="500", first_seen_at=now, last_seen_at=now
        )
        alert = AlertInstance.objects.create(
            integration=integration,
            fingerprint=key,
            starts_at=now,
            service=service.slug,
            code="503",
            first_seen_at=now,
        )
        alert.incidents.add(incident)
        MaintenanceWindow.objects.create(
            service=service, starts_at=now, ends_at=now + timedelta(hours=1), reason=key
        )
        customer = Customer.objects.create(external_id=f"c-{key}")
        customer.services.add(service)
        customer.tags.add(tag)
        device = Device.objects.create(customer=customer, platform="android", token=f"tok-{key}")
        delivery = Delivery.objects.create(
            key=f"page:{key}",
            incident=incident,
            purpose="page",
            team=team,
            channel=channel,
            message="m",
            due_at=now,
        )
        PushRecord.objects.create(
            incident=incident,
            delivery=delivery,
            customer=customer,
            customer_ref=customer.external_id,
            device=device,
            token_tail=device.token[-8:],
            platform="android",
            locale="pt-BR",
            purpose="outage",
            message="m",
            provider="locmem",
            created_at=now,
        )


def changelists():
    for model in admin.site._registry:
        meta = model._meta
        yield (
            f"{meta.app_label}.{meta.model_name}",
            reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"),
        )


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_admin_list_pages_do_not_grow_with_rows(admin_client):
    populate(3, "a")
    few = {name: queries(admin_client, url) for name, url in changelists()}
    populate(27, "b")
    many = {name: queries(admin_client, url) for name, url in changelists()}
    grown = {name: (few[name], many[name]) for name in few if many[name] > few[name]}
    assert not grown, f"queries (3 rows, 30 rows) per list page: {grown}"
    assert len(few) >= 15
