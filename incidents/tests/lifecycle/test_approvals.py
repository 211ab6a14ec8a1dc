"""Four-eyes approval of mass outage pushes: held, approved by a second person, timed out."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission, User

from incidents import services
from incidents.lifecycle.approvals import ApprovalRefused, push_decide
from incidents.lifecycle.escalation import policy_of
from incidents.models import PushApproval, TimelineEvent
from notifications.models import Delivery, PushRecord
from notifications.services import push_switch_set
from notifications.tests.helpers import ledger, post, send_pending

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def staff(username, *perms):
    user = User.objects.create_user(username, password="pw", is_staff=True)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return User.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def mass_push(scenario):
    """The login action asks for approval above one customer; alice set it up."""
    action = scenario["action"]
    action.approval_threshold = 1
    action.last_edited_by = "alice"
    action.save()
    return scenario


@pytest.fixture
def integration(db):
    from incidents.models import Integration

    return Integration.objects.create(name="m", token_hash="h")


def kinds(incident):
    return list(incident.events.values_list("kind", flat=True))


def test_a_push_above_the_threshold_waits_and_nothing_is_queued(mass_push, integration):
    incident = post(integration)
    approval = PushApproval.objects.get(incident=incident)
    assert (approval.status, approval.customers, approval.devices, approval.threshold) == (
        "pending",
        2,
        3,
        1,
    )
    assert approval.set_up_by == ["alice"]
    assert not Delivery.objects.filter(purpose="push").exists()
    held = incident.events.get(kind=TimelineEvent.Kind.PUSH_HELD)
    assert "2 customer(s) (3 device(s)) waits for a second person's approval" in held.detail
    post(integration, times=3)  # more occurrences do not ask twice
    assert PushApproval.objects.count() == 1


def test_a_second_person_approves_and_the_ledger_names_them(mass_push, integration):
    alice = staff("alice", "decide_pushapproval", "view_pushapproval")
    bob = staff("bob", "decide_pushapproval", "view_pushapproval")
    incident = post(integration)
    approval = incident.push_approval
    with pytest.raises(ApprovalRefused, match="alice set up or tested action 0001"):
        push_decide(approval.pk, user=alice, approve=True)
    with time_machine.travel(T0, tick=False):
        assert push_decide(approval.pk, user=bob, approve=True) == 1
    send_pending("push")
    assert ledger("outage") == [("tok-c1-a", "sent"), ("tok-c1-b", "sent"), ("tok-c2", "sent")]
    record = PushRecord.objects.select_related("incident__push_approval").first()
    assert record.incident.push_approval.decided_by == "bob"
    assert record.incident.push_approval.decided_at == T0
    event = incident.events.get(kind=TimelineEvent.Kind.PUSH_APPROVED)
    assert event.actor == "bob" and event.at == T0 and "approved by bob" in event.detail
    with pytest.raises(ApprovalRefused, match="decided this push already"):
        push_decide(approval.pk, user=staff("carol", "decide_pushapproval"), approve=False)


def test_the_tester_and_people_without_the_permission_cannot_approve(mass_push, integration):
    incident = post(integration)
    mass_push["action"].__class__.objects.filter(pk=mass_push["action"].pk).update(
        last_tested_by="dave"
    )
    with pytest.raises(ApprovalRefused, match="dave set up or tested"):
        push_decide(incident.push_approval.pk, user=staff("dave", "decide_pushapproval"), approve=1)
    with pytest.raises(ApprovalRefused, match="may not approve mass pushes"):
        push_decide(incident.push_approval.pk, user=staff("erin"), approve=True)
    assert incident.push_approval.__class__.objects.get().status == "pending"


def test_a_rejected_push_sends_nothing(mass_push, integration):
    incident = post(integration)
    push_decide(incident.push_approval.pk, user=staff("bob", "decide_pushapproval"), approve=False)
    assert not Delivery.objects.filter(purpose="push").exists()
    assert TimelineEvent.Kind.PUSH_REJECTED in kinds(incident)
    services.incident_resolve(incident_id=incident.pk, by="test")
    assert not Delivery.objects.filter(purpose="all_clear").exists()


@pytest.mark.parametrize(
    ("sends", "status", "batches"), [(True, "timeout_sent", 1), (False, "timeout_cancelled", 0)]
)
def test_when_nobody_decides_the_timeout_sends_or_cancels(
    mass_push, integration, sends, status, batches
):
    action = mass_push["action"]
    action.approval_timeout_minutes = 10
    action.approval_timeout_sends = sends
    action.save()
    with time_machine.travel(T0, tick=False):
        incident = post(integration)
        assert incident.push_approval.expires_at == T0 + timedelta(minutes=10)
    with time_machine.travel(T0 + timedelta(minutes=9), tick=False):
        services.sweep()
        assert PushApproval.objects.get().status == "pending"
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        services.sweep()
    approval = PushApproval.objects.get()
    assert (approval.status, approval.decided_by) == (status, "cxhub (approval timeout)")
    assert Delivery.objects.filter(purpose="push").count() == batches


def test_the_kill_switch_still_wins_over_an_approval(mass_push, integration):
    incident = post(integration)
    push_switch_set(paused=True, by="ops")
    push_decide(incident.push_approval.pk, user=staff("bob", "decide_pushapproval"), approve=True)
    send_pending("push")
    assert not PushRecord.objects.exists()
    assert set(Delivery.objects.filter(purpose="push").values_list("status", flat=True)) == {
        "cancelled"
    }


def test_an_incident_that_resolves_first_drops_its_approval(mass_push, integration):
    incident = post(integration)
    services.incident_resolve(incident_id=incident.pk, by="test")
    with pytest.raises(ApprovalRefused, match="resolved"):
        push_decide(incident.push_approval.pk, user=staff("bob", "decide_pushapproval"), approve=1)
    assert PushApproval.objects.get().status == "resolved"
    assert not Delivery.objects.filter(purpose__in=["push", "all_clear"]).exists()


def test_below_the_global_threshold_the_push_goes_at_once(scenario, integration, settings):
    settings.CXHUB_PUSH_APPROVAL_THRESHOLD = 2  # two customers: not above it
    incident = post(integration)
    assert not PushApproval.objects.exists()
    assert TimelineEvent.Kind.PUSH_QUEUED in kinds(incident)
    settings.CXHUB_PUSH_APPROVAL_THRESHOLD = 1  # the frozen action value (empty) defers to it
    services.incident_resolve(incident_id=incident.pk, by="test")
    post(integration)
    assert PushApproval.objects.count() == 1


def test_the_admin_shows_the_preview_and_decides(mass_push, integration, client):
    incident = post(integration)
    url = f"/admin/incidents/pushapproval/{incident.push_approval.pk}/change/"
    client.force_login(staff("alice", "decide_pushapproval", "view_pushapproval"))
    page = client.get(url).content.decode()
    assert "Infelizmente nosso app está indisponível" in page
    assert "2 customer(s), 3 device(s)" in page
    assert "a second person must approve" in page and 'name="_approve"' not in page
    assert client.post(url, {"_approve": "1"}).status_code == 302
    assert PushApproval.objects.get().status == "pending"
    client.force_login(staff("bob", "decide_pushapproval", "view_pushapproval"))
    assert 'name="_approve"' in client.get(url).content.decode()
    client.post(url, {"_approve": "1"})
    assert PushApproval.objects.get().decided_by == "bob"
    assert Delivery.objects.filter(purpose="push").count() == 1


def test_saving_or_testing_an_action_records_who_cannot_approve_alone(scenario, client, rf):
    from types import SimpleNamespace

    from django.contrib.admin.sites import site

    from actions.models import Action

    action = scenario["action"]
    request = rf.post("/")
    request.user = staff("frank")
    site._registry[Action].save_model(request, action, SimpleNamespace(changed_data=[]), True)
    client.force_login(User.objects.create_superuser("grace", password="pw"))
    page = client.get(f"/admin/actions/action/{action.pk}/dry-run/?days=7&quiet_minutes=30")
    assert page.status_code == 200
    action.refresh_from_db()
    assert (action.last_edited_by, action.last_tested_by) == ("frank", "grace")
    assert policy_of(action)["approval"]["set_up_by"] == ["frank", "grace"]
