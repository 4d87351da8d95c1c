"""Fixtures shared by every app's tests and the cross-app tests (registered in the root conftest.py)."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from apps.common.ports import free_port
from apps.common.testing.factories import SysadminFactory, UserFactory, api_key_for


def _missing_service(marker_name: str) -> str | None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if marker_name == "postgres" and engine != "django.db.backends.postgresql":
        return "needs PostgreSQL (DATABASE_URL)"
    if marker_name == "broker" and settings.CELERY_TASK_ALWAYS_EAGER:
        return "needs a Celery broker (CELERY_BROKER_URL)"
    return None


def pytest_runtest_setup(item):
    """Skip tests whose service is not configured, unless TALLY_REQUIRE_SERVICES=1 makes that a failure."""
    for marker_name in ("postgres", "broker"):
        if item.get_closest_marker(marker_name) is None:
            continue
        reason = _missing_service(marker_name)
        if reason is None:
            continue
        if os.environ.get("TALLY_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{item.nodeid} {reason}, and TALLY_REQUIRE_SERVICES=1")
        pytest.skip(reason)


@pytest.fixture
def shared_cache():
    """Redis (the broker's) as the default cache, as production shares it between processes, under a key prefix of
    the test's own. Mark the test `broker`."""
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    redis = {"BACKEND": "apps.common.cache_backends.RedisCache", "LOCATION": settings.CELERY_BROKER_URL,
             "KEY_PREFIX": prefix}  # fmt: skip
    with override_settings(CACHES={"default": redis}):
        yield prefix


THROTTLE_WINDOW_MARGIN = 5


@pytest.fixture
def one_throttle_window() -> None:
    """The API throttle counts each key's requests in fixed windows (a minute at the tests' rates): a test's few
    requests start where at least THROTTLE_WINDOW_MARGIN seconds of the minute remain, so that one window counts
    them all (across a boundary the next window would count the last ones afresh)."""
    left = 60 - time.time() % 60
    if left < THROTTLE_WINDOW_MARGIN:
        time.sleep(left)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def sysadmin(db):
    return SysadminFactory()


@pytest.fixture
def user_key(user) -> str:
    return api_key_for(user)


@pytest.fixture
def sysadmin_key(sysadmin) -> str:
    return api_key_for(sysadmin)


def database_url_for_tests() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def celery_worker_start(queue: str, *, broker_url: str | None = None, **environ: str) -> subprocess.Popen:
    """A real Celery worker process on the configured broker (or `broker_url`), consuming only `queue`, against the
    test database; `environ` adds to its environment."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_for_tests(),
        "CELERY_BROKER_URL": broker_url or settings.CELERY_BROKER_URL,
        **environ,
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "-Q",
        queue,
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    return subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)


@pytest.fixture
def celery_worker_queue(transactional_db):
    """A worker process (celery_worker_start) consuming a queue of its own, so that no other worker on the broker
    takes the test's tasks. Needs PostgreSQL and a broker."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = celery_worker_start(queue)
    yield queue
    worker.terminate()
    worker.wait(timeout=30)


@dataclass
class RedisServer:
    """A redis-server process of a test's own on a free loopback port, which the test may stop and start again."""

    folder: str
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.port = self.port or free_port()
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                   "no", "--dir", self.folder, "--loglevel", "warning"]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        assert wait_for(self._answers, seconds=20, interval=0.05), "redis-server did not start"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                probe.sendall(b"PING\r\n")
                return probe.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@dataclass
class PostgresServer:
    """A PostgreSQL cluster of a test's own on a free loopback port (trust auth, one database `tally`), which the
    test may stop and start again. Run as the `postgres` user when the tests run as root (initdb refuses root)."""

    folder: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/tally"

    def create(self) -> None:
        self._pg("initdb", "-D", str(self.folder), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()
        self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "tally")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg("pg_ctl", "-D", str(self.folder), "-o", options, "-l", str(self.folder / "log"), "-w", "start")

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", str(self.folder), "-m", "fast", "-w", "stop")

    def _pg(self, program: str, *arguments: str) -> None:
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        command = [str(Path(bindir) / program), *arguments]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def private_postgres():
    """A started PostgresServer with Tally's tables migrated, dropped at the end of the module."""
    folder = Path(tempfile.mkdtemp(prefix="tally-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    server = PostgresServer(folder=folder / "data")
    server.create()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": server.url}
    env.pop("CELERY_BROKER_URL", None)
    migrate = [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"]
    subprocess.run(migrate, env=env, cwd=settings.BASE_DIR, check=True)
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def private_redis(tmp_path):
    """A started RedisServer of the test's own, stopped at the end."""
    server = RedisServer(folder=str(tmp_path))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_broker(private_redis, monkeypatch):
    """A Redis of the test's own as the Celery broker of this process (what it publishes) and of the workers it
    starts with `broker_url=private_broker.url`: what a test does to it (a short visibility timeout that hands
    unacknowledged tasks back, a stop) touches no other worker's tasks."""
    from celery import current_app

    def pools_drop() -> None:
        # The app keeps its connection pools for the URL it first used; without them the next publish connects to
        # the URL of the moment (Celery reads CELERY_BROKER_URL from the environment before its settings).
        current_app._pool = None
        current_app.amqp._producer_pool = None

    monkeypatch.setenv("CELERY_BROKER_URL", private_redis.url)
    pools_drop()
    try:
        yield private_redis
    finally:
        monkeypatch.undo()
        pools_drop()


def wait_for(predicate, *, seconds: float = 60, interval: float = 0.25) -> bool:
    """Poll `predicate` until it is true or `seconds` pass (for work done by another process)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@dataclass(frozen=True)
class ServedTally:
    url: str
    sysadmin_key: str


@pytest.fixture(scope="session")
def served_sqlite(tmp_path_factory):
    """Tally as `make run` serves it: gunicorn (several workers and threads) over an SQLite file of its own, with
    tasks in-process; a sysadmin key to call it with. For what only a real server and real concurrency show."""
    folder = tmp_path_factory.mktemp("served")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'tally.sqlite3'}", "TALLY_VAR_DIR": str(folder),
           "DJANGO_SETTINGS_MODULE": "config.settings.test", "TALLY_GROUPS_MAX_PER_CREATOR": "1000",
           # A writer waits its turn; on a loaded shared test machine twenty turns can take longer than the default.
           "TALLY_SQLITE_TIMEOUT_SECONDS": "120"}  # fmt: skip
    env.pop("CELERY_BROKER_URL", None)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "--verbosity", "0"], env=env, cwd=settings.BASE_DIR, check=True)
    created = subprocess.run(
        [*manage, "create_api_key", "--username", "served-admin", "--sysadmin"],
        env=env, cwd=settings.BASE_DIR, check=True, capture_output=True, text=True,
    )  # fmt: skip
    with gunicorn_served(env, threads=8) as (url, _):
        yield ServedTally(url=url, sysadmin_key=created.stdout.splitlines()[-1])


@contextlib.contextmanager
def gunicorn_served(
    env: dict[str, str], *, workers: int = 2, threads: int = 2
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Tally behind gunicorn on a free loopback port, with the environment `env`, once /healthz answers 200: its
    URL and process, stopped at the end."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--threads", str(threads), "--log-level", "warning"]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: status_of(f"{url}/healthz") == 200, seconds=60), "gunicorn did not start"
        yield url, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def status_of(url: str) -> int:
    """The status of a GET of `url`, 0 when nothing answers."""
    try:
        return requests.get(url, timeout=10).status_code
    except requests.RequestException:
        return 0


@pytest.fixture(autouse=True)
def tracking_event_store(tmp_path_factory, settings, monkeypatch):
    """Every test gets an empty tracking-event store of its own; the environment carries it to worker processes."""
    root = str(tmp_path_factory.mktemp("events"))
    settings.TRACKING_EVENT_STORE = root
    monkeypatch.setenv("TALLY_EVENT_STORE", root)
    return root
