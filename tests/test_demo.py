from django.contrib.auth.models import User
from django.core.management import call_command

from actions.models import Action
from incidents.models import Integration, hash_token
from notifications.models import Customer, Team


def test_demo_is_idempotent_and_uses_the_given_token_and_password(
    db, monkeypatch, capsys, settings, tmp_path
):
    # Keep the demo's credential files away from the real var/ of a local run.
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("CXHUB_DEMO_TOKEN", "demo-token-for-tests")
    monkeypatch.setenv("CXHUB_DEMO_PASSWORD", "demo-password-for-tests")
    monkeypatch.setenv("CXHUB_DEMO_SUPPORT_PASSWORD", "support-password-for-tests")
    call_command("demo")
    call_command("demo")
    out = capsys.readouterr().out
    assert "admin / demo-password-for-tests" in out
    assert "Bearer demo-token-for-tests" in out
    assert "Support: login support / support-password-for-tests" in out
    cx_password = (tmp_path / "demo_cx_password").read_text().strip()
    assert f"CX staff: login cx / {cx_password}" in out
    support = User.objects.get(username="support")
    assert support.check_password("support-password-for-tests")
    assert support.is_staff and not support.is_superuser
    assert [g.name for g in support.groups.all()] == ["Support"]
    assert support.has_perm("incidents.change_incident")
    assert not support.has_perm("actions.change_action")
    cx = User.objects.get(username="cx")
    assert [g.name for g in cx.groups.all()] == ["CX staff"]
    assert cx.has_perm("actions.add_action") and not cx.has_perm("incidents.change_incident")
    action = Action.objects.get(code="0001")
    assert action.name == "MS de Login sem resposta"
    assert [
        (t.level, t.name, t.after_occurrences, t.after_minutes) for t in action.tiers.all()
    ] == [
        (1, "Analista N1", 10, 5),
        (2, "Analista N2", 20, 20),
        (3, "Coordenação", None, 60),
    ]
    assert sorted(str(rule) for rule in action.rules.all()) == ["login/404", "login/503"]
    assert (
        action.quiet_minutes,
        action.flap_minutes,
        action.repeat_minutes,
        action.ack_timeout_minutes,
    ) == (10, 5, 15, 30)
    assert Team.objects.count() == 4
    assert Customer.objects.count() == 5
    assert Customer.objects.get(external_id="demo-customer-tokyo").time_zone == "Asia/Tokyo"
    no_app = Customer.objects.get(external_id="demo-customer-sms")
    assert (no_app.phone_consent, no_app.devices.count()) == (True, 0)
    assert action.push_fallback == "sms" and action.status_visible
    # The Open Finance discovery feed knows which endpoints login carries (once, however often).
    assert action.rules.first().service.open_finance_endpoints.count() == 3
    assert Integration.objects.get(name="demo").token_hash == hash_token("demo-token-for-tests")


def test_demo_puts_an_analyst_on_call_for_tier_one_by_sms_then_e_mail(
    db, capsys, settings, tmp_path
):
    from datetime import timedelta

    from django.utils import timezone

    from oncall.models import ContactMethod, Override, Schedule
    from oncall.selectors import oncall_at

    settings.VAR_DIR = tmp_path
    call_command("demo")
    call_command("demo")  # a rerun adds no second override, method or participant
    out = capsys.readouterr().out
    schedule = Schedule.objects.get(name="Plantão N1")
    assert schedule.team.slug == "n1" and schedule.time_zone == "America/Sao_Paulo"
    [layer] = schedule.layers.all()
    assert layer.rotation_type == "weekly"
    assert [m.user.username for m in layer.members.all()] == ["ana", "bruno", "carla"]
    [override] = Override.objects.filter(schedule=schedule)
    [now_on_call] = oncall_at(schedule, timezone.now())
    assert f"{now_on_call.username} now" in out
    # The override puts someone else on call for its hours.
    assert oncall_at(schedule, override.start + timedelta(minutes=1)) == [override.user]
    assert override.user not in oncall_at(schedule, override.start - timedelta(minutes=1))
    # Everyone on the rotation is reachable: SMS at once, e-mail five minutes later.
    for user in User.objects.filter(username__in=["ana", "bruno", "carla"]):
        methods = [(m.kind, m.delay_minutes) for m in ContactMethod.objects.filter(user=user)]
        assert methods == [("sms", 0), ("email", 5)]
        assert user.has_perm("incidents.change_incident")  # Support: may acknowledge
        password = (tmp_path / f"demo_{user.username}_password").read_text().strip()
        assert f"login {user.username} / {password}" in out
    tier = Action.objects.get(code="0001").tiers.get(level=1)
    assert (tier.target, tier.schedule, tier.team.slug) == ("oncall", schedule, "n1")
