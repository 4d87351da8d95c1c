"""docker-compose.yml and .env.example agree with what the settings read (no Docker engine needed)."""

import importlib.util
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APP_SERVICES = ("web", "worker", "beat")
# Read by Django and Celery themselves rather than by config.env.
FRAMEWORK_VARIABLES = {"DJANGO_SETTINGS_MODULE"}


def _settings_variables() -> set[str]:
    sources = (ROOT / "config" / "settings").glob("*.py")
    return {name for path in sources for name in re.findall(r'env_\w+\(\s*"([A-Z0-9_]+)"', path.read_text())}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_five_services_with_healthchecks(compose):
    services = compose["services"]

    assert set(services) == {"db", "redis", "web", "worker", "beat"}
    assert all("healthcheck" in service for service in services.values())


def test_compose_commands_run_the_project_entry_points(compose):
    services = compose["services"]
    command = {
        name: " ".join(services[name]["command"])
        if isinstance(services[name]["command"], list)
        else services[name]["command"]
        for name in APP_SERVICES
    }

    assert "gunicorn config.wsgi:application" in command["web"]
    assert "manage.py migrate" in command["web"]
    assert command["worker"].startswith("celery -A config worker")
    assert command["beat"].startswith("celery -A config beat")


def test_compose_environment_is_what_the_settings_read(compose):
    known = _settings_variables() | FRAMEWORK_VARIABLES
    db = compose["services"]["db"]["environment"]
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        database = urlsplit(environment["DATABASE_URL"])
        broker = urlsplit(environment["CELERY_BROKER_URL"])

        assert set(environment) <= known, set(environment) - known
        assert importlib.util.find_spec(environment["DJANGO_SETTINGS_MODULE"]) is not None
        assert (database.scheme, database.hostname) == ("postgres", "db")
        assert (database.username, database.password) == (db["POSTGRES_USER"], db["POSTGRES_PASSWORD"])
        assert database.path.lstrip("/") == db["POSTGRES_DB"]
        assert (broker.scheme, broker.hostname) == ("redis", "redis")


def test_generated_files_live_on_a_volume_shared_by_the_app_services(compose):
    for name in APP_SERVICES:
        service = compose["services"][name]
        mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in service["volumes"]}

        assert mounts[service["environment"]["TALLY_MEDIA_ROOT"]] == "generated"
        assert {"db", "redis"} <= set(service["depends_on"])
    assert "generated" in compose["volumes"]


def test_env_example_names_only_variables_the_settings_read():
    lines = (ROOT / ".env.example").read_text().splitlines()
    names = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}

    assert names <= _settings_variables(), names - _settings_variables()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_DEBUG"} <= names
