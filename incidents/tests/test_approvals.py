"""Four-eyes approval of mass pushes: waits, a second person decides, timeouts, resolve."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from incidents import services as incidents
from incidents.approvals import ApprovalRefused, push_approval_decide
from incidents.models import Incident, TimelineEvent
from notifications.models import Delivery, PushApproval, PushSwitch
from notifications.tests.helpers import ledger, post, send_pending
from support.roles import CX_STAFF


@pytest.fixture
def integration(db):
    from incidents.models import Integration

    return Integration.objects.create(name="m", token_hash="h")


@pytest.fixture
def mass(scenario, settings):
    """Action 0001's push (2 customers) is a mass push: above a threshold of 1."""
    settings.CXHUB_PUSH_APPROVAL_THRESHOLD = 1
    return scenario


def cx_client(username):
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=CX_STAFF))
    client = Client()
    client.force_login(user)
    return user, client


def kinds(incident):
    return list(incident.events.values_list("kind", flat=True))


def test_a_mass_push_waits_and_a_second_person_approves_it_in_the_admin(mass, integration):
    setter, setter_client = cx_client("setter")
    LogEntry.objects.log_actions(
        setter.pk, [mass["action"]], CHANGE, change_message="set up", single_object=True
    )
    incident = post(integration)
    approval = PushApproval.objects.get(incident=incident)
    assert (approval.status, approval.customers, approval.devices) == ("pending", 2, 3)
    assert not Delivery.objects.filter(purpose="push").exists()
    assert TimelineEvent.Kind.PUSH_APPROVAL_ASKED in kinds(incident)
    url = f"/admin/notifications/pushapproval/{approval.pk}/change/"
    page = setter_client.get(url).content.decode()
    assert "Approve and send" in page
    assert "Infelizmente nosso app está indisponível" in page  # the preview
    # Whoever set the action up cannot approve it alone.
    response = setter_client.post(url, {"_approve": "1"}, follow=True)
    assert "another CX staff member must approve" in response.content.decode()
    assert PushApproval.objects.get(pk=approval.pk).status == "pending"
    _, approver_client = cx_client("approver")
    approver_client.post(url, {"_approve": "1"})
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == ("approved", "approver")
    event = incident.events.get(kind=TimelineEvent.Kind.PUSH_APPROVED)
    assert event.actor == "approver" and "queued in 1 batch(es)" in event.detail
    send_pending("push")
    assert ledger("outage") == [("tok-c1-a", "sent"), ("tok-c1-b", "sent"), ("tok-c2", "sent")]
    with pytest.raises(ApprovalRefused, match="already decided"):
        push_approval_decide(approval.pk, approve=False, by="someone")


def test_a_rejected_push_sends_nothing_and_no_all_clear(mass, integration):
    incident = post(integration)
    approval = push_approval_decide(incident.push_approval.pk, approve=False, by="carla")
    assert approval.status == "rejected"
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    assert not Delivery.objects.filter(purpose__in=["push", "all_clear"]).exists()
    assert incident.events.get(kind=TimelineEvent.Kind.PUSH_REJECTED).actor == "carla"


def test_resolving_cancels_a_waiting_push(mass, integration):
    incident = post(integration)
    incidents.incident_resolve(incident_id=incident.pk, by="test")
    assert PushApproval.objects.get(incident=incident).status == "cancelled"
    with pytest.raises(ApprovalRefused):
        push_approval_decide(incident.push_approval.pk, approve=True, by="late")
    assert not Delivery.objects.filter(purpose="push").exists()


@pytest.mark.parametrize(
    ("sends", "status", "batches"), [(True, "timed_out_sent", 1), (False, "timed_out_cancelled", 0)]
)
def test_the_timeout_decides_as_the_action_says(mass, integration, sends, status, batches):
    action = mass["action"]
    action.approval_timeout_minutes = 10
    action.approval_timeout_sends = sends
    action.save()
    incident = post(integration)
    incidents.sweep(now=timezone.now() + timedelta(minutes=5))
    assert PushApproval.objects.get(incident=incident).status == "pending"
    incidents.sweep(now=timezone.now() + timedelta(minutes=11))
    approval = PushApproval.objects.get(incident=incident)
    assert (approval.status, approval.decided_by) == (status, "cxhub")
    assert Delivery.objects.filter(purpose="push").count() == batches


def test_the_action_threshold_beats_the_global_one_and_kill_switches_still_win(
    scenario, integration, settings
):
    settings.CXHUB_PUSH_APPROVAL_THRESHOLD = 1
    scenario["action"].approval_threshold = 5  # 2 customers: below the action's own threshold
    scenario["action"].save()
    post(integration)
    assert not PushApproval.objects.exists()
    assert Delivery.objects.filter(purpose="push").count() == 1
    Delivery.objects.all().delete()
    incidents.incident_resolve(incident_id=Incident.objects.get().pk, by="t")
    # The next incident uses the global threshold: it waits, is approved, and the
    # switch paused meanwhile still stops every batch.
    scenario["action"].approval_threshold = None
    scenario["action"].save()
    incident = post(integration)
    PushSwitch.objects.create(paused=True)
    push_approval_decide(incident.push_approval.pk, approve=True, by="approver")
    send_pending("push")
    assert set(Delivery.objects.filter(purpose="push").values_list("status", flat=True)) == {
        "cancelled"
    }
    assert ledger("outage") == []


def test_the_ledger_export_names_the_approver(mass, integration, admin_client):
    import csv
    import io

    incident = post(integration)
    push_approval_decide(incident.push_approval.pk, approve=True, by="approver")
    send_pending("push")
    response = admin_client.post(
        "/admin/notifications/pushrecord/",
        {"action": "export_csv", "select_across": "1", "_selected_action": ["0"], "index": "0"},
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 3
    assert {r["approved_by"] for r in rows} == {"approver"}
    assert all(r["approved_at"] for r in rows)
