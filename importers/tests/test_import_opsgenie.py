"""import_opsgenie against a local server that speaks Opsgenie's REST API v2."""

import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from actions.models import Action, Tier
from importers.models import ImportedObject
from importers.tests.conftest import run
from notifications.models import Team
from oncall.models import ContactMethod, Layer, Override, Restriction, Schedule, Shift
from oncall.selectors import oncall_at

pytestmark = pytest.mark.django_db

MODELS = (
    User,
    ContactMethod,
    Team,
    Schedule,
    Layer,
    Restriction,
    Override,
    Shift,
    Action,
    Tier,
    ImportedObject,
)


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def dave(db):
    """Dave already has a cxhub login, under another username: matched by e-mail."""
    return User.objects.create_user("dave.ops", email="Dave@Bank.test")


def test_plan_prints_the_changes_and_writes_nothing(opsgenie, dave):
    before = counts()

    out = run("import_opsgenie", opsgenie.url, "og-good-key", "--plan")

    assert counts() == before
    assert "create  person ana <ana@bank.test>" in out
    assert "change  person dave@bank.test: matched the existing user dave.ops" in out
    assert "create  schedule N1 on call (America/Sao_Paulo)" in out
    assert "Nothing was written." in out


def test_first_run_creates_people_contacts_teams_schedules_and_tiers(opsgenie, dave):
    out = run("import_opsgenie", opsgenie.url, "og-good-key")

    ana = User.objects.get(email="ana@bank.test")
    assert (ana.username, ana.first_name, ana.last_name) == ("ana", "Ana", "Souza")
    assert not ana.has_usable_password()
    assert User.objects.filter(email__iexact="dave@bank.test").count() == 1
    # Her new-alert rule: SMS at once, e-mail after 5 minutes; voice has no cxhub channel.
    assert [
        (m.position, m.kind, m.address, m.delay_minutes, m.enabled)
        for m in ana.contact_methods.all()
    ] == [
        (0, "sms", "+5511999990001", 0, True),
        (1, "email", "ana@bank.test", 5, True),
    ]
    assert "ana@bank.test: voice contact 55-11999990001 not imported" in out
    assert set(Team.objects.values_list("name", flat=True)) >= {"N1", "Coordenação"}

    schedule = Schedule.objects.get(name="N1 on call")
    assert (schedule.time_zone, schedule.team.name) == ("America/Sao_Paulo", "N1")
    day, night = schedule.layers.order_by("order")
    assert (day.name, day.rotation_type, day.start) == (
        "Business hours",
        "daily",
        datetime(2026, 6, 1, 12, tzinfo=UTC),
    )
    assert [m.user.username for m in day.members.order_by("position")] == ["ana", "bruno"]
    assert [(r.kind, str(r.start_time), r.duration) for r in day.restrictions.all()] == [
        ("day", "09:00:00", timedelta(hours=9))
    ]
    assert (night.rotation_type, night.restrictions.count()) == ("weekly", 7)
    assert {(r.kind, r.start_day, r.duration) for r in night.restrictions.all()} == {
        ("week", d, timedelta(hours=15)) for d in range(7)
    }
    assert [m.user for m in night.members.order_by("position")][1] == dave
    override = schedule.overrides.get()
    assert (override.user, override.start) == (dave, datetime(2026, 6, 2, 15, tzinfo=UTC))
    assert schedule.shifts.exists()

    action = Action.objects.get(name="N1 escalation")
    tiers = [
        (t.level, t.name, t.team.name, t.target, t.schedule and t.schedule.name, t.after_minutes)
        for t in action.tiers.all()
    ]
    assert tiers == [
        (1, "N1 on call", "N1", "oncall", "N1 on call", 0),
        # A rule notifying a user pages a one-person schedule, always theirs.
        (2, "carla@bank.test", "N1", "oncall", "Carla Dias (person)", 15),
        (3, "Coordenação", "Coordenação", "team", None, 60),
    ]
    carla = Schedule.objects.get(name="Carla Dias (person)")
    assert [u.username for u in oncall_at(carla, datetime(2027, 3, 1, tzinfo=UTC))] == ["carla"]
    assert "repeat every 10 min (2 times) not imported" in out
    assert "waits for a close" in out
    assert "Done:" in out


def test_second_run_changes_nothing(opsgenie, dave):
    run("import_opsgenie", opsgenie.url, "og-good-key")
    before = counts()

    out = run("import_opsgenie", opsgenie.url, "og-good-key")

    assert counts() == before
    assert "create " not in out and "change " not in out
    assert "Nothing to change: cxhub already matches Opsgenie" in out


def test_a_changed_override_is_the_only_change(opsgenie, dave):
    run("import_opsgenie", opsgenie.url, "og-good-key")
    opsgenie.data["overrides"]["s-n1"][0]["endDate"] = "2026-06-02T18:00:00Z"

    out = run("import_opsgenie", opsgenie.url, "og-good-key")

    changes = [line for line in out.splitlines() if line.startswith(("create", "change"))]
    assert changes == [
        "change  override on N1 on call: dave.ops 2026-06-02 12:00 - 2026-06-02 15:00 "
        "(America/Sao_Paulo)"
    ]


def test_an_override_cancelled_in_opsgenie_is_removed(opsgenie, dave):
    run("import_opsgenie", opsgenie.url, "og-good-key")
    opsgenie.data["overrides"]["s-n1"] = []

    out = run("import_opsgenie", opsgenie.url, "og-good-key")

    assert not Override.objects.exists()
    assert "change  override on N1 on call: dave.ops 2026-06-02 12:00 removed" in out
    schedule = Schedule.objects.get(name="N1 on call")
    assert [u.username for u in oncall_at(schedule, datetime(2026, 6, 2, 16, tzinfo=UTC))] == [
        "bruno"
    ]


def test_overlapping_rotations_put_both_people_on_call_as_in_opsgenie(opsgenie, dave):
    # A backup rotation, all day, over both "Business hours" and "Nights".
    opsgenie.data["schedules"][0]["rotations"].append(
        {
            "id": "r-backup",
            "name": "Backup",
            "startDate": "2026-06-01T00:00:00-03:00",
            "type": "weekly",
            "length": 2,
            "participants": [{"type": "user", "id": "u-dave", "username": "dave@bank.test"}],
        }
    )

    out = run("import_opsgenie", opsgenie.url, "og-good-key")

    schedule = Schedule.objects.get(name="N1 on call")
    assert schedule.layers_add_up
    assert (schedule.layers.count(), schedule.layers.get(order=3).rotation_length) == (
        3,
        timedelta(weeks=2),
    )
    for at, rotation in [
        (datetime(2026, 6, 1, 13, tzinfo=UTC), "ana"),
        (datetime(2026, 6, 1, 23, tzinfo=UTC), "carla"),
    ]:
        assert sorted(u.username for u in oncall_at(schedule, at)) == [rotation, "dave.ops"]
    assert "both have someone" not in out


@pytest.mark.parametrize(
    ("at", "who"),
    [
        # Monday 10:00 in Sao Paulo: the first day of "Business hours" is Ana's.
        ("2026-06-01T10:00:00-03:00", "ana"),
        # Monday 20:00: outside 09:00-18:00; "Nights" (weekly, from Monday 18:00) is Carla's.
        ("2026-06-01T20:00:00-03:00", "carla"),
        # Tuesday 10:00: the daily handoff at 09:00 gave the turn to Bruno.
        ("2026-06-02T10:00:00-03:00", "bruno"),
        # Tuesday 13:00: Dave's override (12:00-14:00) wins over Bruno's turn.
        ("2026-06-02T13:00:00-03:00", "dave.ops"),
    ],
)
def test_who_is_on_call_follows_opsgenie_rotations(opsgenie, dave, at, who):
    run("import_opsgenie", opsgenie.url, "og-good-key")
    schedule = Schedule.objects.get(name="N1 on call")
    reader = User.objects.create_user("reader")
    reader.user_permissions.add(
        Permission.objects.get(content_type__app_label="oncall", codename="view_schedule")
    )
    client = APIClient()
    client.force_login(reader)

    response = client.get(f"/api/v1/schedules/{schedule.pk}/oncall", {"at": at})

    assert response.status_code == 200
    assert [person["username"] for person in response.json()["oncall"]] == [who]
    assert [user.username for user in oncall_at(schedule, datetime.fromisoformat(at))] == [who]


def test_pages_are_followed_to_the_end(opsgenie, dave):
    run("import_opsgenie", opsgenie.url, "og-good-key", "--plan")

    users = [r["query"] for r in opsgenie.requests if r["path"] == "/v2/users"]
    assert [q.get("offset") for q in users] == [["0"], ["2"]]


def test_a_rate_limited_request_is_retried(opsgenie, dave):
    opsgenie.throttle.add("/v2/escalations")

    out = run("import_opsgenie", opsgenie.url, "og-good-key", "--plan")

    assert opsgenie.paths().count("/v2/escalations") == 2
    assert "action og-e-n1 N1 escalation" in out


def test_a_bad_key_stops_with_opsgenies_message(opsgenie):
    before = counts()

    with pytest.raises(CommandError) as raised:
        run("import_opsgenie", opsgenie.url, "wrong")

    refused = "The API key was refused (HTTP 401: Could not authenticate [requestId"
    assert refused in str(raised.value)
    assert counts() == before


def test_an_internal_url_is_refused_unless_allowed(opsgenie, settings):
    settings.CXHUB_OUTBOUND_ALLOW = []

    with pytest.raises(CommandError, match="an internal address"):
        run("import_opsgenie", opsgenie.url, "og-good-key")
    assert opsgenie.requests == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("case", ["bad key", "unreachable"])
def test_the_command_exits_non_zero(opsgenie, case):
    url = opsgenie.url if case == "bad key" else f"http://127.0.0.1:{_closed_port()}"
    done = subprocess.run(
        [sys.executable, "manage.py", "import_opsgenie", "--api-url", url, "--api-key", "wrong"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    expected = "API key was refused (HTTP 401" if case == "bad key" else "is unreachable"
    assert "CommandError: Opsgenie: " in done.stderr and expected in done.stderr
