import pytest
from django.core.management import CommandError, call_command

from incidents.models import Integration, hash_token


def test_create_prints_url_and_token_and_stores_only_the_hash(db, capsys):
    call_command("integration", "create", "alertmanager", "--name", "prom", "--token", "t" * 20)
    out = capsys.readouterr().out
    integration = Integration.objects.get(name="prom")
    assert integration.kind == "alertmanager"
    assert integration.token_hash == hash_token("t" * 20)
    assert f"Token: {'t' * 20}" in out
    assert "/api/v1/integrations/alertmanager/ " in out
    assert f"/api/v1/integrations/alertmanager/{'t' * 20}" in out


def test_create_with_a_random_token_and_rotate(db, capsys):
    call_command("integration", "create", "pagerduty", "--name", "pd", "--rate-limit", "30")
    out = capsys.readouterr().out
    first = out.split("Token: ")[1].strip()
    assert "/v2/enqueue" in out
    integration = Integration.objects.get(name="pd")
    assert integration.rate_limit == 30
    call_command("integration", "rotate", "--name", "pd")
    second = capsys.readouterr().out.split("Token: ")[1].strip()
    integration.refresh_from_db()
    assert first != second
    assert integration.token_hash == hash_token(second)


def test_create_refuses_a_taken_name_or_token_and_rotate_an_unknown_name(db):
    call_command("integration", "create", "generic", "--name", "dd", "--token", "x" * 20)
    with pytest.raises(CommandError, match="named 'dd' exists"):
        call_command("integration", "create", "generic", "--name", "dd")
    with pytest.raises(CommandError, match="already uses this token"):
        call_command("integration", "create", "generic", "--name", "ee", "--token", "x" * 20)
    with pytest.raises(CommandError, match="no integration named 'nope'"):
        call_command("integration", "rotate", "--name", "nope")


def test_demo_creates_one_integration_of_each_kind_and_keeps_the_demo_token(
    db, monkeypatch, capsys
):
    monkeypatch.setenv("CXHUB_DEMO_TOKEN", "demo-token-for-tests")
    call_command("demo")
    first = capsys.readouterr().out
    call_command("demo")
    second = capsys.readouterr().out
    kinds = dict(Integration.objects.values_list("name", "kind"))
    assert kinds == {
        "demo": "cxhub",
        "demo-alertmanager": "alertmanager",
        "demo-grafana": "grafana",
        "demo-pagerduty": "pagerduty",
        "demo-opsgenie": "opsgenie",
        "demo-generic": "generic",
        "demo-app-backend": "app_backend",
    }
    assert Integration.objects.get(name="demo").token_hash == hash_token("demo-token-for-tests")
    assert "/api/v1/integrations/alertmanager/" in first
    # The same tokens on every run (kept in var/).
    assert (
        first.split("Integrations of each kind")[1] == second.split("Integrations of each kind")[1]
    )


def test_create_and_update_set_the_mapping_from_the_command_line(db, capsys):
    call_command(
        "integration",
        "create",
        "alertmanager",
        "--name",
        "prom",
        "--map",
        "service=labels.job",
        "--map",
        "code=labels.code",
    )
    integration = Integration.objects.get(name="prom")
    assert integration.mapping == {"service": "labels.job", "code": "labels.code"}
    assert integration.rate_limit == 0  # opt-in: senders drop what is refused
    call_command(
        "integration", "update", "--name", "prom", "--map", "code=", "--map", "resolved=ok,gone"
    )
    integration.refresh_from_db()
    assert integration.mapping == {"service": "labels.job", "resolved": ["ok", "gone"]}
    assert "updated" in capsys.readouterr().out


def test_a_bad_mapping_is_refused_naming_the_key(db):
    with pytest.raises(CommandError, match="'colour' is not a mapping key"):
        call_command("integration", "create", "generic", "--name", "g", "--map", "colour=red")
    with pytest.raises(CommandError, match="give key=value"):
        call_command("integration", "create", "generic", "--name", "g", "--map", "service")
    assert not Integration.objects.filter(name="g").exists()


def test_opsgenie_integration_prints_the_root_url_and_genie_key(db, capsys):
    call_command("integration", "create", "opsgenie", "--name", "og", "--token", "g" * 20)
    out = capsys.readouterr().out
    assert "(api_url; Authorization: GenieKey <token>)" in out
    assert f"Token: {'g' * 20}" in out
