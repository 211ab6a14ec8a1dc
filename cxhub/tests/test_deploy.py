"""`manage.py check --deploy` is clean with the documented production environment."""

import os
import subprocess
import sys
from pathlib import Path

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


def test_check_deploy_flags_insecure_cookies():
    result = run_check({**PRODUCTION_ENV, "SESSION_COOKIE_SECURE": "false"})
    assert result.returncode != 0
    assert "security.W012" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = run_check(env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
