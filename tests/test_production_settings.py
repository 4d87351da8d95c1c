"""config.settings.production starts only with safe values, and `check --deploy` is clean under it. Each case starts
a fresh interpreter, since settings are read once per process."""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

STRONG_SECRET = secrets.token_urlsafe(50)
SHOW_SETTINGS = (
    "import json, django; from django.conf import settings as s; django.setup(); "
    "print(json.dumps({'cache': s.CACHES['default'], 'renderers': s.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES']}))"
)


def _production(code: list[str], **environment: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "TALLY_"))}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.production", "DJANGO_SECRET_KEY": STRONG_SECRET, **environment}
    return subprocess.run(
        [sys.executable, *code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "secret",
    [
        "change-me-to-a-long-random-string-of-50-characters",
        "insecure-local-only-secret-key-change-me",
        "insecure-" + "x" * 60,
        "short-but-random-" + secrets.token_hex(8),
        "",
    ],
    ids=["env-example", "development-default", "insecure-prefix", "short", "missing"],
)
def test_production_refuses_a_known_short_or_missing_secret(secret):
    started = _production(["-c", SHOW_SETTINGS], DJANGO_SECRET_KEY=secret)

    assert started.returncode != 0
    assert "DJANGO_SECRET_KEY" in started.stderr


@pytest.mark.parametrize(
    "environment",
    [
        {
            "TALLY_SUNBIRD_JWT_HS256_SECRET": "x" * 31,
            "TALLY_SUNBIRD_JWT_AUDIENCE": "a",
            "TALLY_SUNBIRD_JWT_ISSUER": "i",
        },
        {
            "TALLY_SUNBIRD_JWT_HS256_SECRET": "é" * 15,
            "TALLY_SUNBIRD_JWT_AUDIENCE": "a",
            "TALLY_SUNBIRD_JWT_ISSUER": "i",
        },
        {"TALLY_SUNBIRD_JWT_HS256_SECRET": "x" * 32},
        {"TALLY_SUNBIRD_JWT_HS256_SECRET": "x" * 32, "TALLY_SUNBIRD_JWT_AUDIENCE": "a"},
        {"TALLY_SUNBIRD_JWT_RS256_PUBLIC_KEYS": "-----BEGIN PUBLIC KEY-----", "TALLY_SUNBIRD_JWT_ISSUER": "i"},
    ],
    ids=["hs256-31-bytes", "hs256-30-bytes-of-15-letters", "no-audience-nor-issuer", "no-issuer", "rs256-no-audience"],
)
def test_production_refuses_weak_sunbird_token_settings(environment):
    started = _production(["-c", SHOW_SETTINGS], **environment)

    assert started.returncode != 0
    assert "TALLY_SUNBIRD_JWT_" in started.stderr


def test_production_accepts_strong_token_settings_and_hardens_the_rest():
    started = _production(
        ["-c", SHOW_SETTINGS],
        TALLY_SUNBIRD_JWT_HS256_SECRET="x" * 32,
        TALLY_SUNBIRD_JWT_AUDIENCE="tally",
        TALLY_SUNBIRD_JWT_ISSUER="https://id.example.org",
        CELERY_BROKER_URL="redis://redis:6379/0",
    )

    assert started.returncode == 0, started.stderr
    shown = json.loads(started.stdout.splitlines()[-1])
    assert shown["renderers"] == ["rest_framework.renderers.JSONRenderer"]
    assert shown["cache"] == {
        "BACKEND": "apps.common.cache_backends.RedisCache",
        "LOCATION": "redis://redis:6379/0",
    }


def test_production_cache_is_the_one_named_when_given():
    started = _production(
        ["-c", SHOW_SETTINGS], CELERY_BROKER_URL="redis://redis:6379/0", TALLY_CACHE_URL="redis://cache:6379/3"
    )

    assert json.loads(started.stdout.splitlines()[-1])["cache"]["LOCATION"] == "redis://cache:6379/3"


def test_check_deploy_is_clean_under_production_settings():
    checked = _production(["manage.py", "check", "--deploy", "--fail-level", "DEBUG"])

    assert checked.returncode == 0, checked.stderr
    assert "System check identified no issues" in checked.stdout
