"""People and a Berlin schedule for the on-call tests."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import Group, User

from oncall.models import Layer, LayerParticipant, Schedule
from support.roles import CX_STAFF, SUPPORT

# A Monday; every test's clock starts here unless it says otherwise.
MONDAY = datetime(2026, 6, 1, 6, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    """Stop the clock at MONDAY: services that take "now" from it agree with the tests."""
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def people(db):
    found = {}
    for name in ("ana", "bruno", "carla"):
        user = User.objects.create_user(name, email=f"{name}@bank.test", is_staff=True)
        user.groups.add(Group.objects.get(name=SUPPORT))
        found[name] = user
    cx = User.objects.create_user("cx", email="cx@bank.test", is_staff=True)
    cx.groups.add(Group.objects.get(name=CX_STAFF))
    found["cx"] = cx
    return found


def daily_schedule(people, *, start=MONDAY, names=("ana", "bruno"), **fields):
    """A schedule in Europe/Berlin: one daily layer handing off at 08:00 local."""
    schedule = Schedule.objects.create(name=fields.pop("name", "N1"), time_zone="Europe/Berlin")
    layer = Layer.objects.create(
        schedule=schedule, order=1, rotation_type=Layer.Rotation.DAILY, start=start, **fields
    )
    for position, name in enumerate(names):
        LayerParticipant.objects.create(layer=layer, user=people[name], position=position)
    return schedule


@pytest.fixture
def schedule(people):
    return daily_schedule(people)
