import pytest
from django.core.management import call_command

from actions.models import Action
from notifications.models import Team


def action_form(tiers, rules=(("login", "503"),)):
    from actions.models import Service

    data = {
        "code": "0009",
        "name": "Login down",
        "enabled": "on",
        "push_threshold": "5",
        "push_message": "down",
        "all_clear_message": "up",
        "rules-TOTAL_FORMS": str(len(rules)),
        "rules-INITIAL_FORMS": "0",
        "tiers-TOTAL_FORMS": str(len(tiers)),
        "tiers-INITIAL_FORMS": "0",
        "push_templates-TOTAL_FORMS": "0",
        "push_templates-INITIAL_FORMS": "0",
        "audience_scope": "service",
    }
    for i, (service, code) in enumerate(rules):
        data[f"rules-{i}-service"] = Service.objects.get(slug=service).pk
        data[f"rules-{i}-code"] = code
    for i, (level, name, occurrences, minutes) in enumerate(tiers):
        data[f"tiers-{i}-level"] = level
        data[f"tiers-{i}-name"] = name
        data[f"tiers-{i}-team"] = Team.objects.get(slug="n1").pk
        data[f"tiers-{i}-after_occurrences"] = occurrences
        data[f"tiers-{i}-after_minutes"] = minutes
    return data


def test_admin_rejects_tiers_whose_thresholds_go_down(scenario, admin_client):
    data = action_form([(1, "Analista N1", 10, 5), (2, "Analista N2", 5, 20)])
    response = admin_client.post("/admin/actions/action/add/", data)
    assert response.status_code == 200
    assert "Tier 2 (Analista N2) fires at 5 occurrences, before tier 1" in response.content.decode()
    assert not Action.objects.filter(code="0009").exists()


def test_admin_saves_ordered_tiers(scenario, admin_client):
    data = action_form([(1, "Analista N1", 10, 5), (2, "Analista N2", 20, 20)])
    response = admin_client.post("/admin/actions/action/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Action.objects.get(code="0009").tiers.count() == 2


def test_admin_rejects_a_tier_without_threshold(scenario, admin_client):
    data = action_form([(1, "Analista N1", "", "")])
    response = admin_client.post("/admin/actions/action/add/", data)
    assert response.status_code == 200
    assert "Give the tier an occurrence count" in response.content.decode()


def test_admin_list_summarises_the_demo_action(db, client):
    from django.contrib.auth.models import User

    call_command("demo", quiet=True)
    client.force_login(User.objects.get(username="admin"))
    admin_client = client
    page = admin_client.get("/admin/actions/action/").content.decode()
    assert "MS de Login sem resposta" in page
    assert "push at 5; Analista N1 10 occ. / 5 min; Analista N2 20 occ. / 20 min; " in page
    assert "Coordenação 60 min" in page


def test_triage_link_prefills_the_rule(scenario, admin_client):
    page = admin_client.get("/admin/actions/action/add/?service=login&code=500").content.decode()
    assert 'name="rules-0-code" value="500"' in page
    assert 'value="login failing with 500"' in page
    # The action's own code is left to choose: the link's code belongs to the rule.
    assert 'name="code" value="500"' not in page


@pytest.mark.parametrize(
    "path", ["incidents/incident", "incidents/trigger", "notifications/delivery"]
)
def test_history_is_read_only_in_the_admin(db, admin_client, path):
    assert admin_client.get(f"/admin/{path}/").status_code == 200
    assert admin_client.get(f"/admin/{path}/add/").status_code == 403


def test_push_texts_take_the_rows_width_instead_of_the_admins_48em(scenario, admin_client):
    # At 1366 px the admin's vLargeTextField (48em) pushed the push-texts table past the
    # screen (checked with Chromium: docs/screenshots/action-push-texts-1366.png).
    action = scenario["action"]
    action.push_templates.create(purpose="outage", locale="en", text="{service} is down")
    page = admin_client.get(f"/admin/actions/action/{action.pk}/change/").content.decode()
    textarea = page[page.index('id="id_push_templates-0-text"') - 200 :]
    textarea = textarea[: textarea.index(">") + 1]
    assert "width: 100%" in textarea and "vLargeTextField" not in textarea
