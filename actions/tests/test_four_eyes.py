"""Four eyes one person cannot switch off: a bank-wide floor, every author, no view as author."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from actions.models import Action
from actions.tests.test_admin import action_form
from incidents.models.policy import Policy
from support.roles import CX_STAFF, groups_ensure


def cx_staff(username):
    groups_ensure()
    user = User.objects.create_user(username, password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=CX_STAFF))
    return user


@pytest.fixture
def bank(settings):
    settings.CXHUB_PUSH_APPROVAL_THRESHOLD = 2
    settings.CXHUB_PUSH_APPROVAL_TIMEOUT_SENDS = False
    return settings


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"approval_threshold": "0"}, "cannot switch approval off"),
        ({"approval_threshold": "3"}, "at most 2"),
        (
            {"approval_timeout_minutes": "1", "approval_timeout_sends": "on"},
            "may not send a push nobody approved",
        ),
    ],
)
def test_one_person_cannot_make_approval_laxer_than_the_bank(
    scenario, admin_client, bank, fields, error
):
    data = {**action_form([(1, "Analista N1", 10, 5)]), **fields}
    response = admin_client.post("/admin/actions/action/add/", data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Action.objects.filter(code="0009").exists()


def test_a_stricter_approval_is_accepted(scenario, admin_client, bank):
    data = {**action_form([(1, "Analista N1", 10, 5)]), "approval_threshold": "1"}
    assert admin_client.post("/admin/actions/action/add/", data).status_code == 302
    assert Policy.of(Action.objects.get(code="0009")).approval.threshold == 1


def test_a_lax_value_saved_around_the_form_is_not_obeyed(scenario, bank):
    action = scenario["action"]
    Action.objects.filter(pk=action.pk).update(
        approval_threshold=0, approval_timeout_minutes=1, approval_timeout_sends=True
    )
    action.refresh_from_db()
    approval = Policy.of(action).approval
    assert approval.threshold == 2
    assert approval.timeout_sends is False
    bank.CXHUB_PUSH_APPROVAL_THRESHOLD = 0  # the bank asks never: an action may still ask
    Action.objects.filter(pk=action.pk).update(approval_threshold=5)
    action.refresh_from_db()
    assert Policy.of(action).approval.threshold == 5


def test_every_editor_since_the_last_approval_is_an_author(scenario, client, bank):
    action = scenario["action"]
    url = f"/admin/actions/action/{action.pk}/change/"
    alice, bob = cx_staff("alice"), cx_staff("bob")
    client.force_login(alice)
    data = change_form(client, url)
    data["push_message"] = "Alice's text"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    client.force_login(bob)
    data = change_form(client, url)
    data["name"] = "Renamed by Bob"
    assert client.post(url, data).status_code == 302
    action.refresh_from_db()
    # Bob saved last, but Alice wrote the text: neither approves the push alone.
    assert Policy.of(action).approval.set_up_by == ("alice", "bob")


def test_viewing_a_dry_run_is_not_authoring(scenario, client, bank):
    action = scenario["action"]
    viewer = User.objects.create_user("viewer", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_action"))
    client.force_login(viewer)
    url = reverse("admin:actions_action_dry_run", args=[action.pk])
    assert client.get(url, {"days": 7, "quiet_minutes": 30}).status_code == 200
    action.refresh_from_db()
    assert "viewer" not in Policy.of(action).approval.set_up_by
    assert action.push_authors == {}


def change_form(client, url):
    """Return the change form's current values as POST data (inlines included)."""
    response = client.get(url)
    data = {}
    forms = [response.context["adminform"].form] + [
        f for formset in response.context["inline_admin_formsets"] for f in formset.formset.forms
    ]
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[management.add_prefix(name)] = management.initial.get(name, field.initial)
    for form in forms:
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if value is None:
                continue
            key = form.add_prefix(name)
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [getattr(v, "pk", v) for v in value]
            else:
                data[key] = getattr(value, "pk", value)
    return data
