"""Tiers page who is on call: each person by their contact methods, step by step, until
someone acknowledges; nobody on call falls back to the team's channels."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.utils import timezone

from actions.models import Tier
from conftest import post_original
from incidents.counting.sweep import sweep
from incidents.models import Incident
from incidents.outreach import links
from notifications import fallback
from notifications.channels import locmem
from notifications.models import Delivery
from notifications.services import delivery_send
from notifications.tests.fake_gateways import FakeMessageGateway
from oncall import services as oncall_services
from oncall.models import ContactMethod, Layer, LayerParticipant, Schedule
from support.roles import SUPPORT

START = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sms_gateway(settings):
    gateway = FakeMessageGateway("sms-secret")
    settings.CXHUB_SMS_PROVIDER = "webhook"
    settings.CXHUB_SMS_WEBHOOK_URL = gateway.url
    settings.CXHUB_SMS_WEBHOOK_SECRET = "sms-secret"
    settings.CXHUB_EMAIL_PROVIDER = "locmem"
    fallback.outbox.clear()
    yield gateway
    gateway.close()


def person(name, full_name=""):
    first, _sep, last = full_name.partition(" ")
    user = User.objects.create_user(
        name, email=f"{name}@bank.test", is_staff=True, first_name=first, last_name=last
    )
    user.groups.add(Group.objects.get(name=SUPPORT))
    ContactMethod.objects.create(
        user=user, kind="sms", address="+55119999900" + str(user.pk).zfill(2)
    )
    ContactMethod.objects.create(
        user=user, kind="email", address=f"{name}@bank.test", delay_minutes=5
    )
    return user


@pytest.fixture
def oncall(scenario, clock):
    """Ana on call in "N1 on call" (a daily layer of one); tier 1 pages it."""
    ana = person("ana", "Ana Souza")
    schedule = Schedule.objects.create(name="N1 on call", time_zone="America/Sao_Paulo")
    layer = Layer.objects.create(
        schedule=schedule, rotation_type="daily", start=START - timedelta(days=1)
    )
    LayerParticipant.objects.create(layer=layer, user=ana)
    oncall_services.schedule_shifts_refresh(schedule.pk)
    Tier.objects.filter(level=1).update(target=Tier.Target.ONCALL, schedule=schedule)
    return {"ana": ana, "schedule": schedule}


def pages(**filters):
    return Delivery.objects.filter(purpose=Delivery.Purpose.PAGE, **filters).order_by(
        "due_at", "key"
    )


def send_due():
    for delivery in Delivery.objects.filter(status="pending", due_at__lte=timezone.now()):
        delivery_send(delivery.pk)


def test_the_person_on_call_gets_the_sms_now_and_the_e_mail_five_minutes_later(
    oncall, sms_gateway, clock
):
    post_original(10)  # tier 1 at 10 occurrences
    incident = Incident.objects.get()
    ana = oncall["ana"]
    steps = list(pages(tier_level=1))
    assert [(d.person, d.contact_method.kind, d.due_at - START) for d in steps] == [
        (ana, "sms", timedelta(0)),
        (ana, "email", timedelta(minutes=5)),
    ]
    assert not pages(channel__isnull=False, tier_level=1).exists()  # not the team's channels
    send_due()
    [batch] = sms_gateway.accepted
    [sms] = batch["recipients"]
    assert sms["to"] == ana.contact_methods.get(kind="sms").address
    assert f"/incidents/{incident.pk}/acknowledge/" in sms["message"]
    assert fallback.outbox == []  # the e-mail waits for its delay

    clock.shift(timedelta(minutes=5))
    assert sweep()["deliveries"] == 1  # the sweep publishes the step now due
    send_due()
    assert [m["to"] for m in fallback.outbox] == [["ana@bank.test"]]
    assert incident.events.filter(kind="tier_paged", detail__contains="Ana Souza, on call").exists()


def test_acknowledging_from_the_person_s_link_stops_the_next_steps_and_says_who(
    oncall, sms_gateway, client
):
    post_original(10)
    incident = Incident.objects.get()
    ana = oncall["ana"]
    send_due()
    sms = sms_gateway.accepted[0]["recipients"][0]["message"]
    path = sms.split("Acknowledge: ")[1].replace("http://127.0.0.1:8000", "").strip()
    assert links.link_named(path.rsplit("/", 1)[1]) == (str(incident.pk), ana.pk)
    client.force_login(ana)
    assert "Page sent to" in client.get(path).content.decode()
    assert client.post(path).status_code == 200
    incident.refresh_from_db()
    assert (incident.status, incident.acknowledged_by) == ("acknowledged", "ana")
    email = pages(contact_method__kind="email").get()
    assert email.status == "cancelled"
    # Ana is told by the method that reached her.
    [notice] = Delivery.objects.filter(purpose="notice", person=ana)
    assert notice.contact_method.kind == "sms" and "acknowledged by ana" in notice.title


def test_a_colleague_answering_someone_else_s_page_is_named_with_whose_page_it_was(
    oncall, sms_gateway, client
):
    post_original(10)
    incident = Incident.objects.get()
    bruno = person("bruno")
    client.force_login(bruno)
    path = links.acknowledge_url(incident, oncall["ana"]).replace("http://127.0.0.1:8000", "")
    client.post(path)
    incident.refresh_from_db()
    assert incident.acknowledged_by == "bruno"
    assert incident.events.get(kind="acknowledged").detail == "From the page to ana."


def test_nobody_on_call_falls_back_to_the_team_s_channels_and_records_the_gap(oncall, clock):
    Layer.objects.update(end=START - timedelta(hours=1))
    oncall_services.schedule_shifts_refresh(oncall["schedule"].pk)
    post_original(10)
    incident = Incident.objects.get()
    assert not pages(person__isnull=False).exists()
    [channel_page] = pages(tier_level=1)
    assert channel_page.team.slug == "n1"
    gap = incident.events.get(kind="oncall_gap")
    assert "nobody on call in N1 on call" in gap.detail


def test_both_pages_the_channels_and_the_person_and_each_step_exists_once(oncall):
    Tier.objects.filter(level=1).update(target=Tier.Target.BOTH)
    post_original(10)
    incident = Incident.objects.get()
    assert pages(tier_level=1, channel__isnull=False).count() == 1
    assert pages(tier_level=1, person__isnull=False).count() == 2
    # Paging the same tier again (a retry, a race) inserts nothing new.
    from incidents.models.policy import Policy
    from incidents.outreach.paging import page_tier

    page_tier(incident, Policy.from_json(incident.policy).tiers[0], now=timezone.now())
    assert pages(tier_level=1).count() == 3
    assert incident.policy["tiers"][0]["target"] == "both"


def test_the_support_page_shows_who_is_on_call_and_who_was_paged_by_what(oncall, client):
    post_original(10)
    incident = Incident.objects.get()
    client.force_login(oncall["ana"])
    page = client.get(
        f"/support/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "On call now for tier 1 (Analista N1):" in page
    assert "SMS …" in page and "E-mail …" in page
    assert page.count('class="person"') == 2


def test_the_admin_shows_who_is_on_call_per_tier(oncall, admin_client):
    post_original(10)
    incident = Incident.objects.get()
    page = admin_client.get(f"/admin/incidents/incident/{incident.pk}/change/").content.decode()
    assert "Tier 1 (Analista N1): Ana Souza" in page


def test_a_locmem_page_to_person_is_a_real_delivery(oncall, settings):
    settings.CXHUB_SMS_PROVIDER = "locmem"
    locmem.outbox.clear()
    fallback.outbox.clear()
    post_original(10)
    send_due()
    assert [m["channel"] for m in fallback.outbox] == ["sms"]


def test_the_action_s_tiers_show_who_is_on_call_now(oncall, admin_client, scenario):
    page = admin_client.get(f"/admin/actions/action/{scenario['action'].pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    cells = [text[i : i + 80] for i in range(len(text)) if text.startswith("field-oncall_now", i)]
    assert any("ana" in c for c in cells), cells


def timeline(incident, language="en"):
    from django.utils import translation

    from incidents.history.texts import event_text

    with translation.override(language):
        return [(e.kind, event_text(e)) for e in incident.events.order_by("at", "pk")]


def test_the_timeline_names_each_person_paged_and_by_what(oncall, sms_gateway, clock):
    post_original(10)
    incident = Incident.objects.get()
    send_due()
    clock.shift(timedelta(minutes=5))
    sweep()
    send_due()
    lines = timeline(incident)
    paging = [text for kind, text in lines if kind == "tier_paged"]
    assert paging == [
        "Tier 1 (Analista N1) at 10 occurrences: paging Ana Souza, on call in N1 on call, "
        "by SMS now, E-mail after 5 min, one after another until acknowledged"
    ]  # and no "paged through 0 channel(s)" line: no channel was paged
    sent = [text for kind, text in lines if kind == "delivery_sent" and "push" not in text]
    assert sent == ["Paged Ana Souza by SMS (tier 1)", "Paged Ana Souza by E-mail (tier 1)"]
    portuguese = dict(timeline(incident, "pt-br"))
    assert portuguese["tier_paged"] == (
        "Nível 1 (Analista N1) em 10 ocorrências: acionando Ana Souza, de plantão em N1 on "
        "call, por SMS agora, E-mail após 5 min, um depois do outro até alguém reconhecer"
    )
    assert "Ana Souza acionado(a) por E-mail (nível 1)" in dict(
        (t, k) for k, t in timeline(incident, "pt-br")
    )


def test_several_people_paged_at_once_are_counted_in_the_plural():
    from django.utils import translation

    from incidents.history.texts import detail

    line = detail(
        "oncall_paging",
        level=1,
        name="Analista N1",
        occurrences=10,
        schedule="N1",
        people="Ana Souza, Bruno Lima",
        count=2,
        steps=[detail("step_now", method="SMS"), detail("step_after", method="E-mail", minutes=5)],
    )
    assert str(line) == (
        "Tier 1 (Analista N1) at 10 occurrences: paging 2 people on call in N1 (Ana Souza, "
        "Bruno Lima), each by SMS now, E-mail after 5 min, one after another until acknowledged"
    )
    from incidents.history.texts import render_params

    with translation.override("pt-br"):
        assert render_params(line.as_json()) == (
            "Nível 1 (Analista N1) em 10 ocorrências: acionando 2 pessoas de plantão em N1 "
            "(Ana Souza, Bruno Lima), cada uma por SMS agora, E-mail após 5 min, um depois do "
            "outro até alguém reconhecer"
        )


def test_the_people_told_of_the_acknowledgement_are_named(oncall, sms_gateway, client):
    post_original(10)
    incident = Incident.objects.get()
    send_due()
    client.force_login(oncall["ana"])
    client.post(f"/support/incidents/{incident.pk}/acknowledge/")
    told = dict(timeline(incident))["teams_told"]
    assert told == (
        "1 paged person or channel told it was acknowledged by Ana Souza: Ana Souza by SMS"
    )
    assert dict(timeline(incident, "pt-br"))["teams_told"] == (
        "1 pessoa ou canal acionado avisado de que Ana Souza reconheceu: Ana Souza por SMS"
    )


@pytest.mark.parametrize(
    ("language", "kind_label", "gap_text", "oncall_line"),
    [
        (
            "en",
            "Nobody on call",
            "Tier 1 (Analista N1): nobody on call in N1 on call can be paged",
            "nobody: the team",
        ),
        (
            "pt-br",
            "Ninguém de plantão",
            "Nível 1 (Analista N1): ninguém de plantão em N1 on call pode ser acionado",
            "ninguém",
        ),
    ],
)
def test_the_support_page_shows_the_gap_when_nobody_is_on_call(
    oncall, clock, client, language, kind_label, gap_text, oncall_line
):
    Layer.objects.update(end=START - timedelta(hours=1))
    oncall_services.schedule_shifts_refresh(oncall["schedule"].pk)
    post_original(10)
    incident = Incident.objects.get()
    client.force_login(oncall["ana"])
    page = client.get(
        f"/support/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert kind_label in page
    assert gap_text in page
    assert oncall_line in page
    # The page went to the team's channels instead, and the timeline counts them.
    assert (
        "Tier 1 (Analista N1) paged through 1 channel(s)" in dict(timeline(incident))["tier_paged"]
    )


def test_a_reopen_names_the_person_on_call_paged_again(oncall, scenario, clock):
    from incidents.services import incident_resolve

    scenario["action"].flap_minutes = 5
    scenario["action"].save()
    post_original(10)
    incident = Incident.objects.get()
    incident_resolve(incident_id=incident.pk, by="ana")
    clock.shift(timedelta(minutes=1))
    post_original(1)  # within the flap window: the same incident reopens
    lines = dict(timeline(incident))
    assert lines["reopen_paged"] == (
        "Reopened (1): the tiers paged before (Analista N1) paged again: Ana Souza on call, "
        "and 0 channel(s)"
    )
    assert pages(person__isnull=False, key__endswith=":o1").count() == 2  # SMS, then e-mail


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("en", "The incident was acknowledged before it was sent."),
        ("pt-br", "O incidente foi reconhecido antes do envio."),
    ],
)
def test_a_cancelled_step_s_reason_is_shown_in_the_reader_s_language(
    oncall, sms_gateway, client, language, reason
):
    post_original(10)
    incident = Incident.objects.get()
    send_due()
    client.force_login(oncall["ana"])
    client.post(f"/support/incidents/{incident.pk}/acknowledge/")
    email = pages(contact_method__kind="email").get()
    # Stored in English, as rows written before were.
    assert (email.status, email.last_error) == (
        "cancelled",
        "The incident was acknowledged before it was sent.",
    )
    page = client.get(
        f"/support/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert f'<small class="error">{reason}</small>' in page
    # An error that is not a known reason is shown as stored.
    pages(contact_method__kind="email").update(last_error="gateway said 503")
    page = client.get(
        f"/support/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert '<small class="error">gateway said 503</small>' in page


def test_a_repeat_that_pages_only_people_on_call_says_which_repeat_it_is(oncall, scenario, clock):
    scenario["action"].repeat_minutes = 10
    scenario["action"].save()
    post_original(10)
    incident = Incident.objects.get()
    clock.shift(timedelta(minutes=10))
    sweep()
    assert pages(person__isnull=False, key__endswith=":r1").count() == 2
    assert [t for k, t in timeline(incident) if k in ("tier_paged", "repeat_paged")] == [
        "Tier 1 (Analista N1) at 10 occurrences: paging Ana Souza, on call in N1 on call, "
        "by SMS now, E-mail after 5 min, one after another until acknowledged",
        "Tier 1 (Analista N1) paged again (repeat 1) at 10 occurrences: paging Ana Souza, on "
        "call in N1 on call, by SMS now, E-mail after 5 min, one after another until "
        "acknowledged",
    ]
    assert [t for k, t in timeline(incident, "pt-br") if k == "tier_paged"][1] == (
        "Nível 1 (Analista N1) acionado de novo (repetição 1) em 10 ocorrências: acionando "
        "Ana Souza, de plantão em N1 on call, por SMS agora, E-mail após 5 min, um depois do "
        "outro até alguém reconhecer"
    )


@pytest.mark.parametrize(
    ("language", "acknowledged"), [("en", "Acknowledged"), ("pt-br", "Reconhecido")]
)
def test_the_support_page_names_who_acknowledged_by_full_name(
    oncall, sms_gateway, client, language, acknowledged
):
    carla = person("carla", "Carla Dias")
    nameless = person("zeca")
    post_original(10)
    incident = Incident.objects.get()
    send_due()
    # Carla answers Ana's page from its signed link: the audit keeps both usernames.
    path = links.acknowledge_url(incident, oncall["ana"]).replace("http://127.0.0.1:8000", "")
    client.force_login(carla)
    assert client.post(path).status_code == 200
    incident.refresh_from_db()
    assert incident.acknowledged_by == "carla"
    event = incident.events.get(kind="acknowledged")
    assert (event.actor, event.detail) == ("carla", "From the page to ana.")
    page = client.get(
        f"/support/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    fact = page.split(f'<span class="label">{acknowledged}</span>')[1].split("</div>")[0]
    assert fact.endswith(" · Carla Dias</span>")
    assert '<tr class="k-acknowledged">' in page
    row = page.split('<tr class="k-acknowledged">')[1].split("</tr>")[0]
    assert "<td>Carla Dias</td>" in row and "<td>carla</td>" not in row
    told = page.split('<tr class="k-teams_told">')[1].split("</tr>")[0]
    assert "Carla Dias" in told
    # Someone without a full name is named by their username.
    Incident.objects.filter(pk=incident.pk).update(acknowledged_by=nameless.username)
    page = client.get(
        f"/support/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    fact = page.split(f'<span class="label">{acknowledged}</span>')[1].split("</div>")[0]
    assert fact.endswith(" · zeca</span>")
