"""The deployment files (Dockerfile, .dockerignore, docker-compose.yml, .env.example) agree with the project and
with what the settings read; no Docker engine is needed."""

import fnmatch
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings
from django.urls import Resolver404, resolve

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


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined and comments left out."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _docker_ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps `path` (relative, with slashes) or one of its parent folders out of the context."""
    parts = path.split("/")
    candidates = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    return any(
        fnmatch.fnmatch(candidate, pattern.removeprefix("**/")) for candidate in candidates for pattern in patterns
    )


def test_every_dockerfile_copy_source_is_in_the_build_context():
    ignore = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [line for line in ignore if line and not line.startswith("#")]
    sources = [
        source
        for instruction, arguments in _dockerfile_instructions()
        if instruction == "COPY" and "--from" not in arguments
        for source in [word for word in arguments.split() if not word.startswith("--")][:-1]
    ]

    assert sources
    assert [source for source in sources if not (ROOT / source).exists()] == []
    assert [source for source in sources if _docker_ignored(source.rstrip("/"), patterns)] == []


def test_the_images_collectstatic_step_runs_without_a_production_secret(tmp_path):
    instructions = _dockerfile_instructions()
    image_env = dict(
        assignment.split("=", 1) for instruction, arguments in instructions if instruction == "ENV"
        for assignment in arguments.split()
    )  # fmt: skip
    step = next(
        part.strip()
        for instruction, arguments in instructions
        if instruction == "RUN"
        for part in arguments.split("&&")
        if "collectstatic" in part
    )
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "TALLY_"))}
    environment |= image_env | {
        "TALLY_VAR_DIR": str(tmp_path),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }

    done = subprocess.run(["sh", "-c", step], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "static" / "admin").is_dir()


def test_the_wsgi_and_asgi_entry_points_default_to_production_settings():
    for name in ("wsgi.py", "asgi.py"):
        source = (ROOT / "config" / name).read_text()

        assert 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")' in source


def test_the_bench_is_not_part_of_the_served_settings_or_urls():
    assert "apps.bench" not in settings.INSTALLED_APPS
    with pytest.raises(Resolver404):
        resolve("/bench/bare/group/1")
    assert importlib.util.find_spec("config.settings.bench") is not None
