"""`manage.py check --deploy` is clean with the documented production environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

PRODUCTION_ENV = {
    "DEBUG": "false",
    "CXHUB_REQUIRE_SECRET_KEY": "true",
    "SECRET_KEY": "x7!k2#p9v$w4@q8&z1^m5*r3(t6)y0-u_b+n=c{d}e[f]g;h:j,l.o/s?a<i>",
    "ALLOWED_HOSTS": "cxhub.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://cxhub.example.com",
    "CXHUB_BASE_URL": "https://cxhub.example.com",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "CXHUB_BEHIND_TLS_PROXY": "true",
    "CXHUB_LOG_FORMAT": "json",
    # One failed-authentication count for every web process.
    "CACHE_URL": "rediscache://127.0.0.1:6379/1",
}


def run_check(env):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = run_check(PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# What an operator gives at least: the settings module's docstring lists it.
MINIMAL_PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"],
    "ALLOWED_HOSTS": "cxhub.example.com",
    "CACHE_URL": "rediscache://127.0.0.1:6379/1",
}


def settings_of(env, *names):
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='cxhub.settings'; "
        "from django.conf import settings; "
        f"print([getattr(settings, n) for n in {list(names)!r}])"
    )
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_minimal_production_variables_are_secure_by_default():
    result = settings_of(
        MINIMAL_PRODUCTION_ENV,
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "CXHUB_METRICS_OPEN",
        "CXHUB_SESSION_IDLE_MINUTES",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[True, True, False, 30]"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"CACHE_URL": ""}, "shared cache"),
        ({"SESSION_COOKIE_SECURE": "false"}, "HTTPS only"),
        ({"CXHUB_METRICS_OPEN": "true"}, "does not serve /metrics to anyone"),
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
    ],
)
def test_production_refuses_to_start_insecure(change, error):
    env = {k: v for k, v in {**MINIMAL_PRODUCTION_ENV, **change}.items() if v}
    result = settings_of(env, "DEBUG")
    assert result.returncode != 0
    assert error in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = run_check(env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_secret_that_starts_with_a_dollar_is_read_as_written():
    """django-environ takes "$NAME" for a reference to another variable; a secret is not one.

    One key in 50 from Django's get_random_secret_key starts with "$": it used to read
    as empty, so a worker and a web process given the same key signed with different
    ones (the acknowledge link of the page opened as "invalid").
    """
    key = "$" + "k2#p9v@q8&z1^m5*r3(t6)y0-u_b+n=c{d}e[f]g;h:j,l.o/s?a<i>"
    env = {
        **MINIMAL_PRODUCTION_ENV,
        "SECRET_KEY": key,
        "CXHUB_METRICS_TOKEN": "$metrics-token-of-32-characters-x",
    }
    result = settings_of(env, "SECRET_KEY", "CXHUB_METRICS_TOKEN")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr([key, "$metrics-token-of-32-characters-x"])
