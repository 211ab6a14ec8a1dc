"""API keys: stored hashed, shown once, expiring, revocable, each person's own."""

import importlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Group, User
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys.models import ApiKey, hash_key
from apikeys.services import api_key_create
from support.roles import CX_STAFF, SUPPORT


@pytest.fixture
def support_user(scenario):
    user = User.objects.create_user("sam", password="pw-sam-123456", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT))
    return user


@pytest.fixture
def cx_user(scenario):
    user = User.objects.create_user("cxu", password="pw-cx-1234567", is_staff=True)
    user.groups.add(Group.objects.get(name=CX_STAFF))
    return user


def api(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_key_is_stored_only_as_a_hash_and_works_as_token(support_user):
    api_key, key = api_key_create(user=support_user, name="laptop")
    assert key.startswith("cxk_") and api_key.prefix == key[:12]
    row = ApiKey.objects.values().get(pk=api_key.pk)
    assert key not in str(row)
    assert row["key_hash"] == hash_key(key)
    assert api(key).get("/api/v1/incidents/").status_code == 200
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_revoked_and_expired_keys_are_refused(support_user):
    revoked, revoked_key = api_key_create(user=support_user, name="old")
    revoked.revoked_at = timezone.now()
    revoked.save()
    _, expired_key = api_key_create(
        user=support_user, name="temp", expires_at=timezone.now() - timedelta(seconds=1)
    )
    for key in (revoked_key, expired_key, "cxk_not-a-key"):
        response = api(key).get("/api/v1/incidents/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


def test_admin_shows_the_key_once_and_keeps_its_owner(client, cx_user, admin_user):
    client.force_login(cx_user)
    response = client.post(
        "/admin/apikeys/apikey/add/",
        {"name": "bot", "expires_at_0": "", "expires_at_1": "", "user": admin_user.pk},
        follow=True,
    )
    assert response.status_code == 200
    api_key = ApiKey.objects.get(name="bot")
    # Only a superuser creates keys for someone else.
    assert api_key.user == cx_user
    shown = [str(m) for m in response.context["messages"]]
    key = shown[0].split("shown only now: ")[1].split(" ")[0]
    assert hash_key(key) == api_key.key_hash
    page = client.get(f"/admin/apikeys/apikey/{api_key.pk}/change/").content.decode()
    assert key not in page and api_key.prefix in page


def test_nobody_but_a_superuser_sees_another_users_key(client, cx_user, admin_user, admin_client):
    theirs, their_key = api_key_create(user=admin_user, name="root key")
    mine, _ = api_key_create(user=cx_user, name="my key")
    client.force_login(cx_user)
    listing = client.get("/admin/apikeys/apikey/").content.decode()
    assert "my key" in listing and "root key" not in listing and theirs.prefix not in listing
    assert client.get(f"/admin/apikeys/apikey/{theirs.pk}/change/").status_code == 302
    assert client.post(
        "/admin/apikeys/apikey/",
        {"action": "revoke", "_selected_action": [theirs.pk]},
    ).status_code in (200, 302)
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    # The old DRF token list is gone from the admin.
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404
    listing = admin_client.get("/admin/apikeys/apikey/").content.decode()
    assert "root key" in listing and "my key" in listing
    admin_client.post("/admin/apikeys/apikey/", {"action": "revoke", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.revoked_at is not None


def test_upgrade_moves_plaintext_drf_tokens_into_hashed_keys(support_user):
    migration = importlib.import_module("apikeys.migrations.0002_issue10_hash_authtoken_keys")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp NOT NULL, user_id integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)",
            ["0123456789abcdef0123456789abcdef01234567", timezone.now(), support_user.pk],
        )
    # The migration needs only the editor's connection and quoting.
    editor = SimpleNamespace(connection=connection, quote_name=connection.ops.quote_name)
    migration.hash_authtoken_keys(global_apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    migrated = ApiKey.objects.get(user=support_user)
    assert migrated.key_hash == hash_key("0123456789abcdef0123456789abcdef01234567")
    assert migrated.prefix == "0123456789ab"
    key = "0123456789abcdef0123456789abcdef01234567"
    assert api(key).get("/api/v1/incidents/").status_code == 200
