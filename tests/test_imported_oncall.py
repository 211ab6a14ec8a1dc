"""An account imported from Opsgenie pages its on-call people when an incident escalates."""

import copy
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from actions.models import Action, TriggerRule
from conftest import post_original
from importers.tests.conftest import OPSGENIE, run
from importers.tests.fakes import FakeOpsgenie
from incidents.counting.sweep import sweep
from notifications.models import Delivery

# Monday 10:00 in Sao Paulo: Ana's first day of "Business hours".
MONDAY_10 = datetime(2026, 6, 1, 13, tzinfo=UTC)


@pytest.fixture
def opsgenie():
    server = FakeOpsgenie(copy.deepcopy(OPSGENIE))
    yield server
    server.close()


def test_the_imported_escalation_pages_who_opsgenie_says_is_on_call(scenario, opsgenie):
    with time_machine.travel(MONDAY_10, tick=False) as clock:
        out = run("import_opsgenie", opsgenie.url, "og-good-key")
        assert "change  team Coordenação: matched the existing team coordenacao" in out
        # The imported action covers no service yet: CX staff add what it covers.
        action = Action.objects.get(code="og-e-n1")
        TriggerRule.objects.create(action=action, service=scenario["login"], code="500")

        post_original(1, ("login", "500"))

        pages = Delivery.objects.filter(purpose=Delivery.Purpose.PAGE, person__isnull=False)
        assert {(d.tier_level, d.person.username, d.contact_method.kind) for d in pages} == {
            (1, "ana", "email"),
            (1, "ana", "sms"),
        }
        assert pages.get(contact_method__kind="sms").contact_method.address == "+5511999990001"

        # Nobody acknowledges: at 15 minutes the rule "notify carla" is tier 2.
        clock.shift(timedelta(minutes=15))
        sweep()
        tier_2 = Delivery.objects.filter(purpose=Delivery.Purpose.PAGE, tier_level=2)
        assert {(d.person.username, d.contact_method.kind) for d in tier_2} == {("carla", "sms")}
