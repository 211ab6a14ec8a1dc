"""Who changed configuration or responded, through the admin or the API, is in the admin history."""

from datetime import timedelta

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from rest_framework.test import APIClient

from actions.models import Action
from conftest import post_original
from incidents.models import Incident, Integration, MaintenanceWindow
from notifications.models import PushSwitch, Team
from support.roles import SUPPORT


def history(obj):
    return [
        (entry.user.username, entry.get_change_message())
        for entry in LogEntry.objects.filter(
            object_id=str(obj.pk), content_type=ContentType.objects.get_for_model(obj)
        ).order_by("action_time")
    ]


def test_api_responses_are_in_the_incident_history(scenario):
    post_original(1)
    incident = Incident.objects.get()
    user = User.objects.create_user("sam", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT))
    client = APIClient()
    client.force_login(user)
    assert client.post(f"/api/v1/incidents/{incident.pk}/acknowledge", {}).status_code == 200
    assert history(incident) == [("sam", "API: acknowledge")]


def test_admin_actions_are_in_the_history(scenario, admin_client, admin_user):
    integration = Integration(name="am", kind="alertmanager")
    integration.set_new_token()
    integration.save()
    admin_client.post(
        "/admin/incidents/integration/",
        {"action": "rotate_token", "_selected_action": [integration.pk]},
    )
    assert history(integration) == [(admin_user.username, "Rotated the token.")]

    now = timezone.now()
    window = MaintenanceWindow.objects.create(
        reason="deploy",
        action=Action.objects.get(code="0001"),
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
    )
    admin_client.post(
        "/admin/incidents/maintenancewindow/",
        {"action": "end_now", "_selected_action": [window.pk]},
    )
    assert history(window) == [(admin_user.username, "Ended the window now.")]


def test_admin_form_changes_of_configuration_are_in_the_history(scenario, admin_client, admin_user):
    response = admin_client.post("/admin/notifications/pushswitch/add/", {"paused": "on"})
    assert response.status_code == 302
    assert history(PushSwitch.objects.get())[0][0] == admin_user.username
    team = Team.objects.get(slug="n1")
    action = Action.objects.get(code="0001")
    page = admin_client.get(f"/admin/notifications/team/{team.pk}/history/")
    assert page.status_code == 200
    page = admin_client.get(f"/admin/actions/action/{action.pk}/history/")
    assert page.status_code == 200
