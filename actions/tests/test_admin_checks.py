"""What the action form refuses or warns about: rules, rule codes, reach, triage services."""

import pytest

from actions.models import Action, Service, TriggerRule
from actions.tests.test_admin import action_form
from notifications.models import Customer, Tag


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_an_action_without_a_trigger_rule_is_refused(scenario, admin_client):
    data = action_form([(1, "Analista N1", 10, 5)], rules=())
    response = admin_client.post("/admin/actions/action/add/", data)
    assert response.status_code == 200
    assert "Add at least one trigger rule" in response.content.decode()
    assert not Action.objects.filter(code="0009").exists()


@pytest.mark.parametrize("code", ["50x", "5x", "5xxx", "x03", "5*", "50 3"])
def test_a_rule_code_that_never_matches_is_refused_with_the_forms_allowed(
    scenario, admin_client, code
):
    data = action_form([(1, "Analista N1", 10, 5)], rules=(("login", code),))
    page = admin_client.post("/admin/actions/action/add/", data).content.decode()
    assert "never matches anything" in page
    assert "a class of three-digit codes (5xx) or * for any code" in page
    assert not Action.objects.filter(code="0009").exists()


@pytest.mark.parametrize("code", ["503", "5XX", "*", "timeout", "ECONNRESET", "db.down"])
def test_exact_codes_classes_and_any_are_accepted(scenario, admin_client, code):
    data = action_form([(1, "Analista N1", 10, 5)], rules=(("login", code),))
    response = admin_client.post("/admin/actions/action/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert TriggerRule.objects.filter(action__code="0009").get().code == code.replace("XX", "xx")


def test_a_tier_without_threshold_shows_no_constraint_name(scenario, admin_client):
    page = admin_client.post(
        "/admin/actions/action/add/", action_form([(1, "Analista N1", "", "")])
    ).content.decode()
    assert "Give the tier an occurrence count" in page
    assert "tier_has_threshold" not in page
    assert "Constraint" not in page


def test_saving_a_push_that_reaches_nobody_warns_and_says_why(scenario, admin_client):
    Service.objects.create(slug="boleto", name="Boleto")
    data = action_form([(1, "Analista N1", 10, 5)], rules=(("boleto", "500"),))
    response = admin_client.post("/admin/actions/action/add/", data, follow=True)
    [warning] = [m for m in messages_of(response) if "reach nobody" in m]
    assert "no customer uses boleto" in warning


def test_a_narrowing_tag_that_leaves_nobody_is_named(scenario, admin_client):
    Tag.objects.create(slug="pj")
    data = action_form([(1, "Analista N1", 10, 5)])
    data["audience_tags"] = [Tag.objects.get(slug="pj").pk]
    response = admin_client.post("/admin/actions/action/add/", data, follow=True)
    assert any("tag narrowing (pj)" in m for m in messages_of(response))


def test_a_push_that_reaches_customers_saves_without_a_warning(scenario, admin_client):
    response = admin_client.post(
        "/admin/actions/action/add/", action_form([(1, "Analista N1", 10, 5)]), follow=True
    )
    assert not [m for m in messages_of(response) if "reach nobody" in m]
    assert Customer.objects.filter(services__slug="login").exists()


def test_an_action_with_no_push_and_no_tier_warns(scenario, admin_client):
    data = action_form([])
    data["push_threshold"] = ""
    response = admin_client.post("/admin/actions/action/add/", data, follow=True)
    assert any("neither pushes customers nor pages a team" in m for m in messages_of(response))


def test_triage_link_for_a_missing_service_creates_it_on_confirmation(scenario, admin_client):
    url = "/admin/actions/action/add/?service=boleto&code=500"
    page = admin_client.get(url).content.decode()
    assert "No service “boleto” exists yet" in page
    assert "Create service boleto and fill in the rule" in page

    response = admin_client.post(
        "/admin/actions/action/triage-service/", {"service": "boleto", "code": "500"}
    )
    assert response.status_code == 302
    assert response["Location"] == url.replace("/admin", "/admin", 1)
    boleto = Service.objects.get(slug="boleto")
    page = admin_client.get(url).content.decode()
    assert "exists yet" not in page
    assert f'<option value="{boleto.pk}" selected>' in page
    assert 'name="rules-0-code" value="500"' in page


def test_triage_service_creation_needs_the_add_permission(scenario, client, django_user_model):
    from django.contrib.auth.models import Group

    from support.roles import SUPPORT, groups_ensure

    groups_ensure()
    user = django_user_model.objects.create_user("s", password="pw-long-enough", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(user)
    response = client.post(
        "/admin/actions/action/triage-service/", {"service": "boleto", "code": "500"}
    )
    assert response.status_code == 403
    assert not Service.objects.filter(slug="boleto").exists()
