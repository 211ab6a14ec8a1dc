"""Four eyes as one CX staff member would try to get around them alone."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from actions.models import Action
from incidents.counting.sweep import sweep
from incidents.lifecycle.approvals import ApprovalRefused, push_decide
from incidents.models import PushApproval
from incidents.tests.lifecycle.test_approvals import staff
from notifications.models import Delivery
from notifications.tests.helpers import post

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def integration(db):
    from incidents.models import Integration

    return Integration.objects.create(name="m", token_hash="h")


def test_a_threshold_of_zero_written_around_the_form_still_holds_the_push(
    scenario,
    integration,
    settings,
):
    settings.CXHUB_PUSH_APPROVAL_THRESHOLD = 1  # the bank: above one customer, ask
    Action.objects.filter(pk=scenario["action"].pk).update(
        approval_threshold=0, last_edited_by="mallory"
    )
    incident = post(integration)
    assert PushApproval.objects.filter(incident=incident, status="pending").exists()
    assert not Delivery.objects.filter(purpose="push").exists()
    with pytest.raises(ApprovalRefused):
        push_decide(
            incident.push_approval.pk, user=staff("mallory", "decide_pushapproval"), approve=True
        )


def test_a_timeout_that_sends_does_not_send_unless_the_bank_allows(
    scenario,
    integration,
    settings,
):
    settings.CXHUB_PUSH_APPROVAL_THRESHOLD = 1
    settings.CXHUB_PUSH_APPROVAL_TIMEOUT_SENDS = True  # allowed when the incident opened...
    Action.objects.filter(pk=scenario["action"].pk).update(
        approval_timeout_minutes=1, approval_timeout_sends=True
    )
    with time_machine.travel(T0, tick=False):
        post(integration)
    settings.CXHUB_PUSH_APPROVAL_TIMEOUT_SENDS = False  # ...and the bank says no since
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        sweep()
    assert PushApproval.objects.get().status == "timeout_cancelled"
    assert not Delivery.objects.filter(purpose="push").exists()


def test_an_author_of_the_text_cannot_approve_even_if_someone_saved_after(
    scenario,
    integration,
    settings,
):
    settings.CXHUB_PUSH_APPROVAL_THRESHOLD = 1
    now = timezone.now()
    Action.objects.filter(pk=scenario["action"].pk).update(
        push_authors={"alice": now.isoformat(), "bob": now.isoformat()}, last_edited_by="bob"
    )
    incident = post(integration)
    for author in ("alice", "bob"):
        with pytest.raises(ApprovalRefused):
            push_decide(
                incident.push_approval.pk, user=staff(author, "decide_pushapproval"), approve=True
            )
    push_decide(incident.push_approval.pk, user=staff("carol", "decide_pushapproval"), approve=True)
    # Carol approved the content as it stood: the earlier authors are no longer authors of it.
    action = Action.objects.get(pk=scenario["action"].pk)
    assert action.push_approved_at == incident.opened_at
