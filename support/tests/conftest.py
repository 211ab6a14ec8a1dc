import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from support.roles import CX_STAFF, SUPPORT


def _member(username, role):
    user = get_user_model().objects.create_user(username, password="pw-for-tests", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def support_user(db):
    return _member("sam-support", SUPPORT)


@pytest.fixture
def cx_user(db):
    return _member("carla-cx", CX_STAFF)
