"""import_pagerduty against a local server that speaks PagerDuty's REST API v2."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management.base import CommandError

from actions.models import Action
from importers.tests.conftest import run
from importers.tests.test_import_opsgenie import counts
from oncall.models import Schedule
from oncall.selectors import oncall_at

pytestmark = pytest.mark.django_db


def test_plan_prints_the_changes_and_writes_nothing(pagerduty):
    before = counts()

    out = run("import_pagerduty", pagerduty.url, "pd-good-key", "--plan")

    assert counts() == before
    assert "create  schedule Primary (Europe/Berlin)" in out
    assert "create  layers of Primary: 2 layer(s), 1 restriction(s)" in out
    assert "Nothing was written." in out


def test_first_run_creates_everything_and_the_second_changes_nothing(pagerduty):
    out = run("import_pagerduty", pagerduty.url, "pd-good-key")

    ana = User.objects.get(email="ana@bank.test")
    # Delays and order from the high-urgency notification rules: SMS now, e-mail at 5.
    assert [(m.kind, m.address, m.delay_minutes) for m in ana.contact_methods.all()] == [
        ("sms", "+4915112345601", 0),
        ("email", "ana@bank.test", 5),
    ]
    assert "ana@bank.test: phone contact Mobile not imported" in out
    # Carla's e-mail is used by a low-urgency rule only: kept, disabled.
    carla = User.objects.get(email="carla@bank.test").contact_methods.get()
    assert not carla.enabled

    schedule = Schedule.objects.get(name="Primary")
    weekly, weekend = schedule.layers.order_by("order")
    assert (weekly.name, weekly.rotation_type, weekend.name, weekend.rotation_type) == (
        "Weekly",
        "weekly",
        "Weekend",
        "daily",
    )
    restriction = weekend.restrictions.get()
    assert (restriction.kind, restriction.start_day, restriction.duration) == (
        "week",
        5,
        timedelta(hours=36),
    )
    assert schedule.team.name == "N1"
    action = Action.objects.get(code="pd-PEP1")
    tiers = [(t.name, t.target, t.schedule.name, t.after_minutes) for t in action.tiers.all()]
    # Rule 2 starts when rule 1's 10 minutes have passed.
    assert tiers == [
        ("Primary", "oncall", "Primary", 0),
        ("Bruno Lima", "oncall", "Bruno Lima (person)", 10),
    ]
    assert "1 loop(s) not imported" in out

    before = counts()
    again = run("import_pagerduty", pagerduty.url, "pd-good-key")
    assert counts() == before
    assert "Nothing to change: cxhub already matches PagerDuty" in again


@pytest.mark.parametrize(
    ("at", "who"),
    [
        # Monday 08:00 in Berlin: the week from May 25 09:00 is still Ana's.
        (datetime(2026, 6, 1, 6, tzinfo=UTC), "ana"),
        # Monday 10:00: the weekly handoff at 09:00 gave it to Bruno.
        (datetime(2026, 6, 1, 8, tzinfo=UTC), "bruno"),
        # Wednesday 13:00: Carla's override (12:00-14:00).
        (datetime(2026, 6, 3, 11, tzinfo=UTC), "carla"),
        # Saturday 12:00: the weekend layer (Saturday 09:00 for 36 hours) is above.
        (datetime(2026, 6, 6, 10, tzinfo=UTC), "carla"),
    ],
)
def test_who_is_on_call_follows_pagerduty_layers(pagerduty, at, who):
    run("import_pagerduty", pagerduty.url, "pd-good-key")

    schedule = Schedule.objects.get(name="Primary")
    assert [user.username for user in oncall_at(schedule, at)] == [who]


def test_requests_follow_pagerdutys_api(pagerduty):
    run("import_pagerduty", pagerduty.url, "pd-good-key", "--plan")

    first = pagerduty.requests[0]
    assert first["headers"]["Accept"] == "application/vnd.pagerduty+json;version=2"
    users = [r["query"] for r in pagerduty.requests if r["path"] == "/users"]
    assert [q["offset"] for q in users] == [["0"], ["2"]]
    assert users[0]["include[]"] == ["contact_methods", "notification_rules"]
    overrides = next(r for r in pagerduty.requests if r["path"].endswith("/overrides"))
    assert overrides["query"]["since"] and overrides["query"]["until"]


def test_a_bad_key_stops_with_pagerdutys_message(pagerduty):
    with pytest.raises(CommandError, match=r"PagerDuty: The API key was refused \(HTTP 401: "):
        run("import_pagerduty", pagerduty.url, "wrong")


def test_an_api_error_names_its_message_code_and_errors(pagerduty, monkeypatch):
    def no_window(api, *, now):
        return api.get("schedules/PS1/overrides")  # without since/until: a 400

    monkeypatch.setattr("importers.pagerduty.read", no_window)
    with pytest.raises(CommandError) as raised:
        run("import_pagerduty", pagerduty.url, "pd-good-key")

    assert (
        "answered HTTP 400: Invalid Input Provided (Since and until are required.) [code 2001]"
        in str(raised.value)
    )


def test_a_contact_method_the_person_already_has_is_taken_over_not_doubled(pagerduty):
    ana = User.objects.create_user("ana", email="ana@bank.test")
    own = ana.contact_methods.create(kind="email", address="ana@bank.test", delay_minutes=0)

    out = run("import_pagerduty", pagerduty.url, "pd-good-key")

    assert ana.contact_methods.filter(kind="email").get() == own
    own.refresh_from_db()
    assert own.delay_minutes == 5  # PagerDuty's notification rule
    assert "change  contact method of ana: email ana@bank.test after 5 min" in out
