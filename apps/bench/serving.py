"""Tally behind gunicorn on loopback, and the keep-alive load generator that drives it: shared by `make bench` (one
target at a time, against a bare view) and `make soak` (a mix of every endpoint, for minutes)."""

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from pathlib import Path

import redis
from django.conf import settings

# Every server the bench or the soak starts keeps its cache under a prefix of its own, starting with this.
CACHE_PREFIX = "bench-"


def shared_cache() -> str | None:
    """The Redis that production would share as its cache (the broker's), when the broker is Redis."""
    return settings.CELERY_BROKER_URL if settings.CELERY_BROKER_URL.startswith("redis") else None


def leftovers_clear() -> None:
    """Remove what a run leaves in the shared Redis: the caches of the servers it started (versions never expire)
    and the tasks its ingests queued on the bench's own queue, which no worker consumes."""
    url = shared_cache()
    if url is None:
        return
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{CACHE_PREFIX}*", count=1000):
        client.delete(key)
    queue = getattr(settings, "BENCH_QUEUE", None)
    if queue:
        client.delete(queue, f"_kombu.binding.{queue}")


def serve(port: int, *, log: Path | None = None, environment: dict[str, str] | None = None) -> subprocess.Popen:
    """gunicorn serving Tally as production does (2 workers): its cache shared through Redis when there is one.
    The server's own log (warnings and 500s) goes to `log` when given; `environment` adds to or overrides its
    variables."""
    cache = shared_cache()
    namespace = {"TALLY_CACHE_URL": cache, "TALLY_CACHE_KEY_PREFIX": f"{CACHE_PREFIX}{uuid.uuid4().hex[:12]}"}
    env = {
        **os.environ,
        # A namespace of this server's own: the bench writes its data in bulk (no save signals, so no version bump),
        # and another bench database may have left pages under the same queries.
        **(namespace if cache else {}),
        "TALLY_LOG_LEVEL": "WARNING",
        # Ordinary keys and anonymous callers are counted as always, at a rate the load cannot reach; the bench's
        # trusted service key (the v0 and Sunbird reads') is exempt, as issue 15 allows for the reference's services.
        "TALLY_API_THROTTLE_RATE": "100000000/minute",
        "TALLY_API_SERVICE_THROTTLE_RATE": "none",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        **(environment or {}),
    }
    output = log.open("ab") if log else subprocess.DEVNULL
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=output,
        stderr=output,
    )
    for _ in range(200):
        try:
            HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not start")


@dataclass(frozen=True)
class Call:
    """One request of a load, and what counts as its success: its status is one of `expect`, and its body does not
    hold `refused` (for dialects that answer a partial refusal with a 200, as Sunbird's `error` member)."""

    name: str
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: str | bytes | None = None
    expect: tuple[int, ...] = (200,)
    refused: bytes | None = None


@dataclass(frozen=True)
class Sample:
    at: float  # seconds from the load's start to the request's
    name: str
    latency: float


@dataclass(frozen=True)
class Failure:
    at: float
    name: str
    status: int | str
    body: str


@dataclass
class Figures:
    """What a load measured over `seconds`: every request's latency (seconds) and every failure."""

    seconds: float
    samples: list[Sample]
    failures: list[Failure]
    latencies: list[float] = field(init=False)  # sorted

    def __post_init__(self) -> None:
        self.latencies = sorted(sample.latency for sample in self.samples)

    @property
    def errors(self) -> int:
        return len(self.failures)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def by_name(self) -> dict[str, "Figures"]:
        names = sorted({sample.name for sample in self.samples} | {failure.name for failure in self.failures})
        return {
            name: Figures(
                self.seconds,
                [sample for sample in self.samples if sample.name == name],
                [failure for failure in self.failures if failure.name == name],
            )
            for name in names
        }

    def between(self, first: float, last: float) -> "Figures":
        """The requests that started from `first` seconds to before `last`."""
        return Figures(
            min(last, self.seconds) - first,
            [sample for sample in self.samples if first <= sample.at < last],
            [failure for failure in self.failures if first <= failure.at < last],
        )

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies:
            return 0.0
        return round(self.latencies[max(int(len(self.latencies) * fraction) - 1, 0)] * 1000, 2)


Calls = Generator[Call, tuple[int, bytes] | None, None]


def repeat(call: Call) -> Calls:
    while True:
        yield call


def load(port: int, calls_of: Callable[[int], Calls], *, seconds: float, clients: int, timeout: float = 30) -> Figures:
    """`clients` threads on loopback, each with one keep-alive connection, sending the calls of `calls_of(client)`
    in turn for `seconds`; each call's generator is sent the (status, body) of the call before (status 0 when the
    request failed). A response whose status is not one the call expects, or a request that fails, is an error,
    kept with the start of its body."""
    samples: list[Sample] = []
    failures: list[Failure] = []
    origin = time.monotonic()
    deadline = origin + seconds
    lock = threading.Lock()

    def client(number: int) -> None:
        conn = HTTPConnection("127.0.0.1", port, timeout=timeout)
        calls = calls_of(number)
        mine: list[Sample] = []
        failed: list[Failure] = []
        previous: tuple[int, bytes] | None = None
        while (now := time.monotonic()) < deadline:
            at = now - origin
            try:
                call = calls.send(previous)
            except Exception as exc:  # a defect of the mix itself: an error of the run, never a silent thread
                failed.append(Failure(at, "load generator", type(exc).__name__, str(exc)))
                break
            started = time.perf_counter()
            try:
                conn.request(call.method, call.path, body=call.body, headers=call.headers)
                response = conn.getresponse()
                body = response.read()
            except (OSError, HTTPException) as exc:
                failed.append(Failure(at, call.name, type(exc).__name__, str(exc)))
                previous = (0, b"")
                conn.close()
                conn = HTTPConnection("127.0.0.1", port, timeout=timeout)
                continue
            mine.append(Sample(at, call.name, time.perf_counter() - started))
            previous = (response.status, body)
            if response.status not in call.expect or (call.refused is not None and call.refused in body):
                failed.append(Failure(at, call.name, response.status, body[:300].decode(errors="replace")))
        conn.close()
        with lock:
            samples.extend(mine)
            failures.extend(failed)

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Figures(seconds, samples, sorted(failures, key=lambda failure: failure.at))
