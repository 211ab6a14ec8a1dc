"""Lifecycle rules: quiet period, flap window, repeats, acknowledgement timeout,
silence, maintenance and triage re-processing, on a controllable clock."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from actions.models import Action, TriggerRule
from incidents import services
from incidents.lifecycle import evaluation
from incidents.models import Incident, Integration, MaintenanceWindow, TriageAlert, Trigger
from notifications.models import Delivery
from notifications.services import delivery_send

MIN = timedelta(minutes=1)


def post(times=1, pairs=(("login", "503"),)):
    integration, _ = Integration.objects.get_or_create(name="tests", defaults={"token_hash": "x"})
    for _ in range(times):
        rep, _ = services.report_ingest(
            integration=integration,
            triggers=[{"service": s, "code": c} for s, c in pairs],
            payload={},
        )
        services.report_process(rep.id)


def incident():
    return Incident.objects.order_by("-opened_at").first()


def send_all():
    for delivery_id in Delivery.objects.filter(status="pending").values_list("id", flat=True):
        delivery_send(delivery_id)


def pages(level=None):
    qs = Delivery.objects.filter(purpose=Delivery.Purpose.PAGE)
    return qs.filter(tier_level=level) if level else qs


def kinds(inc):
    return list(inc.events.values_list("kind", flat=True))


def configure(scenario, **fields):
    Action.objects.filter(pk=scenario["action"].pk).update(**fields)


@pytest.fixture
def clock():
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        traveller.start = start

        def at(delta):
            traveller.move_to(start + delta)

        traveller.at = at
        yield traveller


# Quiet period


def test_quiet_period_resolves_after_no_occurrence_for_m_minutes(scenario, clock):
    configure(scenario, quiet_minutes=10)
    post(10)  # push queued, N1 paged
    send_all()
    inc = incident()
    assert inc.next_check_at == clock.start + 10 * MIN  # N1 paged by count; N2 at 20 min

    clock.at(9 * MIN + timedelta(seconds=59))
    services.sweep()
    assert incident().status == "open"
    clock.at(10 * MIN)
    services.sweep()
    inc = incident()
    assert inc.status == "resolved"
    assert inc.resolved_by == "cxhub (quiet period)"
    assert "No occurrence for 10 minute(s)" in inc.events.get(kind="resolved").detail
    assert Delivery.objects.filter(purpose="all_clear").count() == 1
    assert [n.team.slug for n in Delivery.objects.filter(purpose="notice")] == ["n1"]
    assert not pages(2).exists()


def test_each_occurrence_restarts_the_quiet_period(scenario, clock):
    configure(scenario, quiet_minutes=10)
    post(1)
    clock.at(8 * MIN)
    post(1)
    # N1 paged by time at this occurrence; the quiet period now runs to minute 18.
    assert pages(1).count() == 1
    assert incident().next_check_at == clock.start + 18 * MIN
    clock.at(17 * MIN)
    services.sweep()
    assert incident().status == "open"
    clock.at(18 * MIN)
    services.sweep()
    assert incident().status == "resolved"


def test_quiet_period_also_resolves_an_acknowledged_incident(scenario, clock):
    configure(scenario, quiet_minutes=10)
    post(1)
    services.incident_acknowledge(incident_id=incident().pk, by="ana")
    assert incident().next_check_at == clock.start + 10 * MIN
    clock.at(10 * MIN)
    services.sweep()
    assert incident().status == "resolved"


# Flap window


def test_trigger_within_the_flap_window_reopens_the_same_incident(scenario, clock):
    configure(scenario, flap_minutes=5, quiet_minutes=10)
    post(5)
    send_all()  # the outage push went out
    first = incident()
    clock.at(10 * MIN)
    services.sweep()  # quiet period: resolved, all-clear queued (not sent yet)
    assert incident().status == "resolved"
    clock.at(14 * MIN)
    post(1)
    assert Incident.objects.count() == 1
    inc = incident()
    assert inc.pk == first.pk
    assert (inc.status, inc.occurrences, inc.resolved_at) == ("open", 6, None)
    assert "reopened" in kinds(inc)
    assert Delivery.objects.get(purpose="all_clear").status == "cancelled"
    assert Delivery.objects.filter(purpose="push").count() == 1


def test_trigger_after_the_flap_window_opens_a_new_incident(scenario, clock):
    configure(scenario, flap_minutes=5)
    post(2)
    first = incident()
    services.incident_resolve(incident_id=first.pk, by="ana")
    clock.at(5 * MIN + timedelta(seconds=1))
    post(1)
    assert Incident.objects.count() == 2
    assert incident().pk != first.pk
    assert "reopened" not in kinds(Incident.objects.get(pk=first.pk))


def test_without_a_flap_window_a_trigger_after_resolution_opens_a_new_incident(scenario):
    post(1)
    services.incident_resolve(incident_id=incident().pk, by="ana")
    post(1)
    assert Incident.objects.count() == 2


def test_reopening_never_makes_a_second_unresolved_incident(scenario, clock):
    configure(scenario, flap_minutes=5)
    post(1)
    first = incident()
    services.incident_resolve(incident_id=first.pk, by="ana")
    # Another process opened a new incident in between.
    second = Incident.objects.create(
        action=scenario["action"],
        occurrences=1,
        opened_at=clock.start,
        last_occurrence_at=clock.start,
        policy=first.policy,
    )
    assert services.incident_reopen_flapping(action_id=first.action_id, at=clock.start) is None
    assert Incident.objects.get(pk=first.pk).status == "resolved"
    post(1)
    assert Incident.objects.get(pk=second.pk).occurrences == 2


def test_policy_snapshot_keeps_the_flap_window_the_incident_opened_with(scenario, clock):
    configure(scenario, flap_minutes=5)
    post(1)
    configure(scenario, flap_minutes=None)
    services.incident_resolve(incident_id=incident().pk, by="ana")
    clock.at(2 * MIN)
    post(1)
    assert Incident.objects.count() == 1


# Repeat while unacknowledged


def test_highest_tier_is_paged_again_every_n_minutes_until_acknowledged(scenario, clock):
    configure(scenario, repeat_minutes=10)
    post(10)  # N1 at minute 0
    assert incident().next_check_at == clock.start + 10 * MIN  # the repeat, before N2's 20
    clock.at(9 * MIN)
    services.sweep()
    assert pages(1).count() == 1
    clock.at(10 * MIN)
    services.sweep()
    services.sweep()
    keys = sorted(pages(1).values_list("key", flat=True))
    assert len(keys) == 2 and keys[1].endswith(":r1")
    clock.at(15 * MIN)
    post(10)  # N2 by count at minute 15: now the highest tier
    clock.at(25 * MIN)
    services.sweep()
    assert pages(1).count() == 2
    assert pages(2).count() == 2
    assert pages(2).filter(key__endswith=":r2").count() == 1
    services.incident_acknowledge(incident_id=incident().pk, by="ana")
    clock.at(59 * MIN)
    services.sweep()
    assert pages().count() == 4
    assert kinds(incident()).count("repeat_paged") == 2


def test_repeat_keys_never_double(scenario, clock):
    configure(scenario, repeat_minutes=10)
    post(10)
    clock.at(10 * MIN)
    inc = incident()
    stale = Incident.objects.get(pk=inc.pk)
    evaluation.repeat_if_due(
        inc, hold=evaluation.Hold(False, False, None), now=clock.start + 10 * MIN
    )
    # A concurrent evaluation holding the same old state claims nothing.
    assert not evaluation.repeat_if_due(
        stale, hold=evaluation.Hold(False, False, None), now=clock.start + 10 * MIN
    )
    assert pages(1).count() == 2


# Acknowledgement timeout


def test_acknowledgement_times_out_and_escalation_resumes_where_it_was(scenario, clock):
    configure(scenario, ack_timeout_minutes=15)
    post(10)  # N1 at minute 0
    clock.at(1 * MIN)
    services.incident_acknowledge(incident_id=incident().pk, by="ana")
    assert incident().next_check_at == clock.start + 16 * MIN
    clock.at(15 * MIN)
    services.sweep()
    assert incident().status == "acknowledged"
    clock.at(16 * MIN)
    services.sweep()
    inc = incident()
    assert (inc.status, inc.acknowledged_by, inc.escalation_level) == ("open", "", 1)
    assert "ack_expired" in kinds(inc)
    assert pages(1).count() == 1 and not pages(2).exists()
    assert inc.next_check_at == clock.start + 20 * MIN
    clock.at(20 * MIN)
    services.sweep()
    assert pages(2).count() == 1
    # A new acknowledgement holds again.
    services.incident_acknowledge(incident_id=incident().pk, by="bia")
    clock.at(30 * MIN)
    services.sweep()
    assert incident().status == "acknowledged"


# Silence


def test_silenced_incident_counts_but_pages_nobody_until_the_silence_ends(scenario, clock):
    post(1)
    assert services.incident_silence(incident_id=incident().pk, minutes=30, by="ana")
    post(24)
    inc = incident()
    assert inc.occurrences == 25
    assert not pages().exists()
    assert Delivery.objects.filter(purpose="push").count() == 1  # customers are still told
    assert inc.next_check_at == clock.start + 30 * MIN
    clock.at(30 * MIN)
    services.sweep()
    assert [pages(level).count() for level in (1, 2, 3)] == [1, 1, 0]
    assert kinds(incident())[-3:] == ["silence_ended", "tier_paged", "tier_paged"]


def test_resolved_incident_cannot_be_silenced(scenario):
    post(1)
    services.incident_resolve(incident_id=incident().pk, by="ana")
    assert not services.incident_silence(incident_id=incident().pk, minutes=10, by="ana")


# Maintenance


def window(scenario, clock, start=0, end=60, **target):
    target = target or {"service": scenario["login"]}
    return MaintenanceWindow.objects.create(
        starts_at=clock.start + start * MIN,
        ends_at=clock.start + end * MIN,
        reason="DB upgrade",
        **target,
    )


def test_maintenance_counts_and_marks_but_sends_nothing_then_escalates_at_its_end(scenario, clock):
    w = window(scenario, clock, end=30)
    post(25)
    inc = incident()
    assert inc.occurrences == 25
    assert inc.maintenance_id == w.pk
    assert not Delivery.objects.exists()
    assert kinds(inc) == ["opened", "maintenance", "occurrence"]
    assert inc.next_check_at == w.ends_at
    clock.at(30 * MIN)
    services.sweep()
    inc = incident()
    assert Delivery.objects.filter(purpose="push").count() == 1
    assert [pages(level).count() for level in (1, 2, 3)] == [1, 1, 0]
    assert "maintenance_ended" in kinds(inc)
    assert inc.maintenance_id == w.pk  # the mark stays
    # Time tiers count from the end of the window: Coordenação 60 minutes later.
    assert inc.next_check_at == clock.start + 90 * MIN


def test_window_on_one_action_leaves_other_actions_alone(scenario, clock):
    other = Action.objects.create(code="0002", name="Login 5xx")
    TriggerRule.objects.create(action=other, service=scenario["login"], code="5xx")
    Action.objects.filter(pk=other.pk).update(push_threshold=1)
    window(scenario, clock, action=scenario["action"])
    post(5)
    assert Delivery.objects.filter(purpose="push", incident__action=other).count() == 1
    assert not Delivery.objects.filter(incident__action=scenario["action"]).exists()


def test_window_ended_early_releases_the_incident_at_the_next_sweep(scenario, clock):
    w = window(scenario, clock, end=120)
    post(12)
    clock.at(10 * MIN)
    assert services.maintenance_end(window_id=w.pk, by="ana")
    w.refresh_from_db()
    assert (w.ends_at, w.ended_early_by) == (clock.start + 10 * MIN, "ana")
    assert incident().next_check_at == clock.start + 10 * MIN
    services.sweep()
    assert pages(1).count() == 1
    assert Delivery.objects.filter(purpose="push").count() == 1


def test_window_created_while_an_incident_runs_marks_it_at_the_next_sweep(scenario, clock):
    post(3)
    clock.at(1 * MIN)
    w = window(scenario, clock, start=1, end=30)
    assert services.maintenance_saved(w) == 1
    services.sweep()
    inc = incident()
    assert inc.maintenance_id == w.pk
    post(20)
    assert not Delivery.objects.exists()


def test_saving_a_window_on_one_action_touches_only_its_incidents(scenario, clock):
    post(1)
    ruleless = Action.objects.create(code="0009", name="No rules")
    other = Incident.objects.create(
        action=ruleless,
        occurrences=1,
        opened_at=clock.start,
        last_occurrence_at=clock.start,
        policy={"tiers": []},
    )
    clock.at(1 * MIN)
    w = window(scenario, clock, start=1, end=30, action=scenario["action"])
    assert services.maintenance_saved(w) == 1
    assert Incident.objects.get(pk=other.pk).next_check_at is None
    by_service = window(scenario, clock, start=1, end=30)
    assert services.maintenance_saved(by_service) == 1


def test_unsent_pages_are_cancelled_on_acknowledge_and_only_paged_channels_told(scenario):
    post(10)
    send_all()  # N1 sent
    post(10)  # N2 queued, not sent yet
    services.incident_acknowledge(incident_id=incident().pk, by="ana")
    assert Delivery.objects.get(purpose="page", tier_level=2).status == "cancelled"
    assert [n.team.slug for n in Delivery.objects.filter(purpose="notice")] == ["n1"]


def test_future_window_holds_from_its_start_and_can_be_cancelled(scenario, clock):
    w = window(scenario, clock, start=10, end=20)
    post(5)
    assert Delivery.objects.filter(purpose="push").count() == 1
    assert services.maintenance_end(window_id=w.pk, by="ana")
    assert not MaintenanceWindow.objects.exists()


def test_window_must_cover_a_service_or_an_action_and_end_after_it_starts(scenario, clock):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    with pytest.raises(ValidationError):
        MaintenanceWindow(
            starts_at=clock.start, ends_at=clock.start - MIN, reason="x", service=scenario["login"]
        ).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        MaintenanceWindow.objects.create(
            starts_at=clock.start,
            ends_at=clock.start + MIN,
            reason="x",
            service=scenario["login"],
            action=scenario["action"],
        )


# Occurrence milestones


def test_occurrence_milestones_are_on_the_timeline_once(scenario):
    post(100)
    details = list(incident().events.filter(kind="occurrence").values_list("detail", flat=True))
    assert details == ["10 occurrences", "100 occurrences"]


# Triage re-processing


def test_recent_unmatched_triggers_count_once_after_an_action_covers_them(scenario, clock):
    post(3, pairs=[("login", "500")])
    assert TriageAlert.objects.get().occurrences == 3
    assert services.triage_reprocess(service="login", code="500")["triggers"] == 0
    assert not Trigger.objects.exclude(reprocessed_at=None).exists()

    clock.at(30 * MIN)
    action = Action.objects.create(code="0500", name="Login 500", push_threshold=3)
    TriggerRule.objects.create(action=action, service=scenario["login"], code="500")
    result = services.triage_reprocess(service="login", code="500")
    assert result == {"triggers": 3, "occurrences": 3, "actions": 1}
    inc = Incident.objects.get(action=action)
    assert inc.occurrences == 3
    assert inc.opened_at == clock.start
    assert Delivery.objects.filter(purpose="push", incident=inc).count() == 1
    assert services.triage_reprocess(service="login", code="500")["triggers"] == 0
    assert Incident.objects.get(action=action).occurrences == 3


def test_reprocessing_looks_back_only_the_configured_window(scenario, clock, settings):
    settings.CXHUB_TRIAGE_REPROCESS_WINDOW = timedelta(minutes=60)
    post(1, pairs=[("login", "500")])
    clock.at(50 * MIN)
    post(1, pairs=[("login", "500")])
    clock.at(70 * MIN)
    action = Action.objects.create(code="0500", name="Login 500")
    TriggerRule.objects.create(action=action, service=scenario["login"], code="500")
    assert services.triage_reprocess(service="login", code="500")["triggers"] == 1


def test_reprocessed_report_counts_once_per_action(scenario, clock):
    # One report with 503 (covered) and 500 (not yet): the action 0001 counted it already.
    post(1, pairs=[("login", "503"), ("login", "500")])
    TriggerRule.objects.create(action=scenario["action"], service=scenario["login"], code="500")
    result = services.triage_reprocess(service="login", code="500")
    assert result == {"triggers": 1, "occurrences": 0, "actions": 1}
    assert incident().occurrences == 1
    assert Trigger.objects.filter(code="500").get().incident_id == incident().pk
