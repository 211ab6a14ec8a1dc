"""The role groups: created from code, enforced by the admin and the API."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from conftest import ORIGINAL_PAYLOAD
from incidents.models import Incident
from support.roles import CX_STAFF, SUPPORT, groups_ensure


def perms(role):
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=role).permissions.select_related("content_type")
    }


def test_groups_exist_after_migrate_with_their_permissions(db):
    cx, support = perms(CX_STAFF), perms(SUPPORT)
    assert {"actions.add_action", "actions.change_tier", "notifications.change_team"} <= cx
    assert {"incidents.add_integration", "notifications.change_customer"} <= cx
    assert "incidents.view_incident" in cx and "incidents.change_incident" not in cx
    assert "notifications.change_delivery" not in cx
    assert {"incidents.view_incident", "incidents.change_incident"} <= support
    assert {"incidents.view_timelineevent", "notifications.view_delivery"} <= support
    assert "actions.view_action" in support
    assert not {p for p in support if p.startswith(("actions.add", "actions.change"))}
    assert "incidents.view_integration" not in support
    # The customer lookup (issue 12): customers and the push ledger, never device tokens.
    assert {"notifications.view_customer", "notifications.view_pushrecord"} <= support
    assert "notifications.view_device" not in support
    assert "notifications.change_customer" not in support


def test_ensuring_groups_again_changes_nothing(db):
    before = perms(SUPPORT)
    Group.objects.get(name=SUPPORT).permissions.clear()
    groups_ensure()
    groups_ensure()
    assert perms(SUPPORT) == before
    assert Group.objects.filter(name__in=[CX_STAFF, SUPPORT]).count() == 2


def test_admin_lets_cx_staff_configure_and_support_only_read(client, cx_user, support_user):
    client.force_login(support_user)
    assert client.get(reverse("admin:actions_action_changelist")).status_code == 200
    assert client.get(reverse("admin:actions_action_add")).status_code == 403
    assert client.get(reverse("admin:incidents_integration_changelist")).status_code == 403
    assert client.get(reverse("admin:incidents_incident_changelist")).status_code == 200
    client.force_login(cx_user)
    assert client.get(reverse("admin:actions_action_add")).status_code == 200
    assert client.get(reverse("admin:notifications_team_add")).status_code == 200
    assert client.get(reverse("admin:incidents_integration_add")).status_code == 200


@pytest.fixture
def incident(scenario, ingest_client, eager_celery, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ingest_client.post("/api/v1/triggers", ORIGINAL_PAYLOAD, format="json")
    return Incident.objects.get()


def test_admin_actions_acknowledge_only_for_those_allowed(client, cx_user, support_user, incident):
    url = reverse("admin:incidents_incident_changelist")
    data = {"action": "acknowledge", "_selected_action": [str(incident.pk)]}
    client.force_login(cx_user)
    assert b'value="acknowledge"' not in client.get(url).content
    client.post(url, data)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.OPEN
    client.force_login(support_user)
    assert b'value="acknowledge"' in client.get(url).content
    client.post(url, data)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.ACKNOWLEDGED
    assert incident.acknowledged_by == "sam-support"


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_create(user=user, name='tests')[1]}")
    return client


def test_api_operations_need_the_respond_permission(cx_user, support_user, incident):
    url = f"/api/v1/incidents/{incident.pk}/acknowledge"
    cx = token_client(cx_user)
    assert cx.get(f"/api/v1/incidents/{incident.pk}/").status_code == 200
    denied = cx.post(url)
    assert denied.status_code == 403
    assert "acknowledge" in denied.json()["detail"]
    support = token_client(support_user)
    response = support.post(url)
    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"
    assert support.post(url).status_code == 409
    assert support.post(f"/api/v1/incidents/{incident.pk}/explode").status_code == 404
    resolved = support.post(f"/api/v1/incidents/{incident.pk}/resolve")
    assert resolved.json()["status"] == "resolved"


def test_customer_api_needs_cx_staff_not_support(scenario, cx_user, support_user):
    body = {"external_id": "c9", "services": ["login"], "devices": []}
    assert (
        token_client(support_user).post("/api/v1/customers", body, format="json").status_code == 403
    )
    assert token_client(cx_user).post("/api/v1/customers", body, format="json").status_code == 201


def test_api_answers_401_without_credentials_and_403_without_the_role(db, cx_user):
    anonymous = APIClient().get("/api/v1/incidents/")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.get("/api/v1/incidents/").status_code == 401
    cx_user.groups.clear()
    assert token_client(cx_user).get("/api/v1/incidents/").status_code == 403
