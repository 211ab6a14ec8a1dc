"""An Opsgenie and a PagerDuty account, as their APIs would return them, served locally."""

import copy
from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from importers.tests.accounts import OPSGENIE, PAGERDUTY
from importers.tests.fakes import FakeOpsgenie, FakePagerDuty

# Monday 2026-06-01, 03:00 in Sao Paulo, 08:00 in Berlin.
NOW = datetime(2026, 6, 1, 6, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def run(command: str, url: str, key: str, *args) -> str:
    """Run an import command and return what it printed."""
    out = StringIO()
    call_command(command, "--api-url", url, "--api-key", key, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def opsgenie():
    server = FakeOpsgenie(copy.deepcopy(OPSGENIE))
    yield server
    server.close()


@pytest.fixture
def pagerduty():
    server = FakePagerDuty(copy.deepcopy(PAGERDUTY))
    yield server
    server.close()
