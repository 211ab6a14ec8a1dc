"""The admin home: what is open now (incidents, held customer batches, approvals waiting)."""

from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.utils import timezone

from incidents.models import Incident, PushApproval
from notifications.models import Delivery
from support.roles import SUPPORT


def test_admin_home_shows_open_incidents_held_batches_and_approvals(scenario, admin_client):
    now = timezone.now()
    incident = Incident.objects.create(
        action=scenario["action"], policy={}, opened_at=now, last_occurrence_at=now
    )
    Incident.objects.create(
        action=scenario["action"],
        policy={},
        opened_at=now - timedelta(days=1),
        last_occurrence_at=now - timedelta(days=1),
        status=Incident.Status.RESOLVED,
    )
    Delivery.objects.create(
        incident=incident,
        purpose=Delivery.Purpose.PUSH,
        key="push:held",
        recipients=[1, 2, 3],
        due_at=now + timedelta(hours=5),
        quiet_hours="held",
    )
    PushApproval.objects.create(
        incident=incident, customers=5, devices=7, threshold=2, requested_at=now
    )
    page = admin_client.get("/admin/").content.decode()
    assert "Open now" in page
    assert f"/support/incidents/{incident.pk}/" in page
    assert "Incidents (1)" in page
    assert "Held customer batches (1)" in page and "3 recipients" in page
    assert "Approvals waiting (1)" in page
    assert "/admin/incidents/pushapproval/" in page


def test_each_part_only_for_whom_may_see_it(scenario, client):
    user = User.objects.create_user("sup", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(user)
    page = client.get("/admin/").content.decode()
    assert "Incidents (0)" in page and "none open" in page
