"""PostgreSQL drops the session of a host whose network vanished (CXHUB_DB_DEAD_PEER_SECONDS).

tests/drill_hosts.py shows why: a host cut off mid-transaction held the storm's
incident row, and every other host's counting waited for the whole cut.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


def database_options(**env) -> subprocess.CompletedProcess:
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'cxhub.settings'; "
        "from django.conf import settings; "
        "print(settings.DATABASES['default'].get('OPTIONS', {}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": "postgres://cxhub@db.example:5432/cxhub", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.django_db
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL sessions")
def test_server_probes_a_silent_client_and_gives_up_after_ten_seconds():
    with connection.cursor() as cursor:
        shown = {}
        for name in ("idle", "interval", "count"):
            cursor.execute(f"SHOW tcp_keepalives_{name}")
            shown[name] = int(cursor.fetchone()[0])
        cursor.execute("SHOW tcp_user_timeout")
        user_timeout = cursor.fetchone()[0]
    assert shown["idle"] + shown["count"] * shown["interval"] == 10
    assert user_timeout in ("10000", "10s")
    assert connection.connection.info.get_parameters()["keepalives_idle"] == str(shown["idle"])


def test_zero_leaves_the_servers_own_keepalive_settings():
    result = database_options(CXHUB_DB_DEAD_PEER_SECONDS="0")
    assert result.returncode == 0, result.stderr
    assert "tcp_keepalives" not in result.stdout
    assert "keepalives_idle" not in result.stdout


def test_options_from_the_url_are_kept():
    result = database_options(
        DATABASE_URL="postgres://cxhub@db.example:5432/cxhub?options=-c%20search_path%3Dcx"
    )
    assert result.returncode == 0, result.stderr
    assert "-c search_path=cx -c tcp_keepalives_idle=4" in result.stdout


@pytest.mark.parametrize("value", ["-1", "3"])
def test_a_dead_peer_time_below_four_seconds_stops_startup(value):
    result = database_options(CXHUB_DB_DEAD_PEER_SECONDS=value)
    assert result.returncode != 0
    assert "CXHUB_DB_DEAD_PEER_SECONDS must be 0 (off) or at least 4" in result.stderr
