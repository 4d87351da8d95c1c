"""`make soak`: a bounded mix of every read and write endpoint of every dialect, driven for minutes against Tally
behind gunicorn on loopback, with every response checked for its status and the servers' memory taken after a
warm-up and at the end.

The writes are bounded: each client renames its own pool group, adds a member and removes it again (through
Sunbird and through the native API), marks a membership visited, creates a group and deletes it (both dialects), and
ingests the same events and sessions again (both ingests are idempotent). Deleted groups stay as rows (a deleted
group is a state, counted by CKAN's statistics): the soak removes the ones it made at its start and end, so that its
database keeps its size; the audit log, which records every write, is the one table that grows.
"""

import itertools
import json
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from learnosity_sdk.request import Init

from apps.bench.serving import Call, Calls, Figures, load, serve
from apps.common.demo import DEMO_COURSE_IDS
from apps.common.models import ApiKey
from apps.common.ports import free_port
from apps.common.services import api_key_create, user_ensure
from apps.course_analytics.api.urls import COURSE_ENDPOINTS
from apps.course_analytics.demo import tracking_log_lines
from apps.datasets.demo import DEMO_DATASET_ID
from apps.datasets.models import Consumer, Dataset
from apps.groups.models import Activity, Group, MemberRole, Membership
from apps.groups.services import group_create

SOAK_DIR = Path(settings.VAR_DIR) / "soak"
ADMIN, PORTAL, CREATOR = "soak-admin", "soak-portal", "soak-creator-"
FAILURES_SHOWN = 10
PARTIAL = b'"error"'  # Sunbird's member of a 200 that refused part of a write (a member not found, or there already)


@dataclass(frozen=True)
class World:
    """What the mix calls: keys, the demo data it reads, a pool group per client, learners to add and remove."""

    admin_key: str  # sysadmin; analytics and ingest scopes
    admin_id: str
    portal_key: str  # the application that calls Sunbird on a user's behalf
    creator_keys: list[str]
    pool: list[str]
    learners: list[str]
    course_id: str  # a demo course that `course_group` takes as an activity
    course_group: str
    course_group_number: int
    vhost: int
    consumer_key: str
    consumer_secret: str
    job_reference: str
    event_lines: str
    session_lines: str


def _key(username: str, *, sysadmin: bool = False) -> tuple[str, str]:
    """A fresh service key (exempt from the request rate, as `make bench`'s) for `username`, in place of the last
    run's, and the user's public id."""
    user = user_ensure(username=username, sysadmin=sysadmin)
    ApiKey.objects.filter(user=user, name="soak").delete()
    _, raw = api_key_create(user=user, name="soak", service=True, analytics=sysadmin, ingest=sysadmin)
    return raw, str(user.public_id)


def _created_groups_purge() -> int:
    """Remove the groups the soak's creators made (deleted ones stay as rows otherwise): its writes stay bounded."""
    made = Group.objects.filter(created_by__username__startswith=CREATOR)
    Membership.objects.filter(group__in=made).delete()
    Activity.objects.filter(group__in=made).delete()
    return made.delete()[0]


@transaction.atomic
def _world(*, clients: int) -> World:
    user_model = get_user_model()
    admin_key, admin_id = _key(ADMIN, sysadmin=True)
    portal_key, _ = _key(PORTAL)
    creator_keys = [_key(f"{CREATOR}{n}")[0] for n in range(clients)]
    admin = user_model.objects.get(username=ADMIN)
    pool = []
    for n in range(clients):
        name = f"Soak pool {n}"
        group = Group.objects.existing().filter(created_by=admin, slug=f"soak-pool-{n}").first()
        group = group or group_create(actor=admin, name=name, slug=f"soak-pool-{n}").group
        # A run ends where its deadline falls, maybe between an add and its remove: the pool starts with its admin.
        Membership.objects.filter(group=group).exclude(user=admin).delete()
        pool.append(str(group.public_id))
    learners = [
        str(public_id)
        for public_id in user_model.objects.filter(username__startswith="learner")
        .order_by("username")
        .values_list("public_id", flat=True)[:50]
    ]
    activity = Activity.objects.filter(group__parent__isnull=False, activity_type="Course").order_by("id").first()
    if activity is None or not learners:
        raise RuntimeError("no demo data: seed_demo found no learners or no group with a course")
    # The admin is a member of the course's group, so that the aggregator answers it as Sunbird's would.
    Membership.objects.update_or_create(
        group=activity.group, user=admin, defaults={"role": MemberRole.ADMIN, "status": "active"}
    )
    dataset = Dataset.objects.select_related("consumer").get(dataset_id=DEMO_DATASET_ID)
    consumer: Consumer = dataset.consumer
    events = tracking_log_lines(course_ids=[DEMO_COURSE_IDS[0]], learners=3, start=date(2026, 1, 5), days=2)
    sessions = [
        {
            "session_id": f"soak-{n}",
            "user_id": learners[n],
            "activity_id": "soak-activity",
            "score": n,
            "max_score": 10,
            "attempted_max_score": 10,
            "unscored_max_score": 0,
            "status": "Completed",
            "dt_completed": "2026-01-05T10:00:00Z",
        }
        for n in range(10)
    ]
    return World(
        admin_key=admin_key,
        admin_id=admin_id,
        portal_key=portal_key,
        creator_keys=creator_keys,
        pool=pool,
        learners=learners,
        course_id=activity.activity_id,
        course_group=str(activity.group.public_id),
        course_group_number=activity.group.pk,
        vhost=activity.group.vhost,
        consumer_key=consumer.consumer_key,
        consumer_secret=consumer.consumer_secret,
        job_reference=str(dataset.job.reference),
        event_lines="\n".join(itertools.islice(events, 40)),
        session_lines="\n".join(json.dumps(session) for session in sessions),
    )


def _json(name: str, method: str, path: str, headers: dict, body: dict | list | None = None, **options) -> Call:
    payload = None if body is None else json.dumps(body)
    return Call(name, method, path, {**headers, "Content-Type": "application/json"}, payload, **options)


def _learnosity(world: World, name: str, path: str, request: dict, action: str) -> Call:
    """A Data API call signed now, as the learnosity-sdk package signs it (its timestamps are by the minute)."""
    security = {
        "consumer_key": world.consumer_key,
        "domain": "localhost",
        "timestamp": datetime.now(UTC).strftime("%Y%m%d-%H%M"),
    }
    form = Init("data", security, world.consumer_secret, request, action).generate()
    return Call(name, "POST", path, {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(form))


def _reads(world: World) -> list[Call]:
    token = {"Authorization": f"Token {world.admin_key}"}
    sunbird = {"Authorization": f"Bearer {world.portal_key}", "x-authenticated-user-token": world.admin_key}
    pool, course = world.pool[0], world.course_id
    group_count = {
        "query": [{"query_group": [{"state": "active"}, {"title": "class"}]}],
        "start_date": "2020-01-01",
        "end_date": datetime.now(UTC).date().isoformat(),
        "date_field": "created",
    }
    activity = {"groupId": world.course_group, "activityId": course, "activityType": "Course"}
    return [
        Call("native groups list", "GET", "/api/v1/groups/", token),
        Call("native group detail", "GET", f"/api/v1/groups/{pool}/", token),
        Call("native memberships list", "GET", "/api/v1/memberships/", token),
        Call("native activities list", "GET", "/api/v1/activities/", token),
        Call("native media list", "GET", "/api/v1/media/", token),
        Call("native comments list", "GET", "/api/v1/comments/", token),
        Call("native whoami", "GET", "/api/v1/auth/whoami/", token),
        Call("native activity aggregates", "GET", f"/api/v1/groups/{world.course_group}/activity-aggregates/", token),
        Call("sunbird read", "GET", f"/api/group/v1/read/{world.course_group}?fields=members,activities", sunbird),
        _json(
            "sunbird list", "POST", "/api/group/v1/list", sunbird, {"request": {"filters": {"userId": world.admin_id}}}
        ),
        _json(
            "sunbird form read",
            "POST",
            "/api/data/v1/form/read",
            sunbird,
            {"request": {"type": "group", "subType": "supported_activities", "action": "list"}},
        ),
        _json("sunbird activity agg", "POST", "/api/data/v1/group/activity/agg", sunbird, {"request": activity}),
        _json(
            "sunbird group agg", "POST", "/api/data/v1/group/agg", sunbird, {"request": {"groupId": world.course_group}}
        ),
        Call("newspark getGroups json", "GET", f"/services/json/groups/getGroups?vhost={world.vhost}"),
        Call("newspark getGroups xml", "GET", f"/services/rest/groups/getGroups?vhost={world.vhost}&startPage=1"),
        Call("newspark getGroup json", "GET", f"/services/json/groups/getGroup?groupId={world.course_group_number}"),
        Call("newspark getGroup xml", "GET", f"/services/rest/groups/getGroup?groupId={world.course_group_number}"),
        Call("newspark getGroupTree json", "GET", f"/services/json/groups/getGroupTree?vhost={world.vhost}"),
        Call("newspark getGroupTree xml", "GET", f"/services/rest/groups/getGroupTree?vhost={world.vhost}"),
        _json("ckan get_group_count", "POST", "/api/action/get_group_count", token, group_count),
        _json("ckan get_group_count v3", "POST", "/api/3/action/get_group_count", token, group_count),
        _json("ckan help_show", "POST", "/api/action/help_show", {}, {"name": "get_group_count"}),
        *(
            Call(f"v0 {endpoint}", "GET", f"/api/v0/courses/{course}/{endpoint}/", token)
            for endpoint in COURSE_ENDPOINTS
        ),
        Call("v0 enrollment csv", "GET", f"/api/v0/courses/{course}/enrollment/", {**token, "Accept": "text/csv"}),
    ]


def _calls(world: World, client: int) -> Calls:
    """The mix of one client: every read, then its bounded writes, over and over."""
    reads = _reads(world)
    admin = {"Authorization": f"Token {world.admin_key}"}
    sunbird = {"Authorization": f"Bearer {world.portal_key}", "x-authenticated-user-token": world.admin_key}
    creator = {"Authorization": f"Bearer {world.portal_key}", "x-authenticated-user-token": world.creator_keys[client]}
    group = world.pool[client]
    dataset = {"dataset_type": "sessions-summary-by-group", "dataset_id": str(DEMO_DATASET_ID), "group_paths": [[]]}
    for turn in itertools.count():
        for call in reads:  # noqa: UP028  (`yield from` a list would pass send() to the list's iterator)
            yield call
        yield _learnosity(world, "learnosity datasets get", "/v1/reports/datasets", dataset, "get")
        yield _learnosity(world, "learnosity jobs get", "/latest/jobs", {"references": [world.job_reference]}, "get")
        # Sunbird adds and removes the first half of the learners, the native API the second.
        learner = world.learners[(client * 7 + turn) % (len(world.learners) // 2)]
        update = {"groupId": group, "name": f"Soak pool {client} turn {turn % 10}"}
        yield _json(
            "sunbird update add member",
            "PATCH",
            "/api/group/v1/update",
            sunbird,
            {"request": {**update, "members": {"add": [{"userId": learner}]}}},
            refused=PARTIAL,
        )
        yield _json(
            "sunbird update remove member",
            "PATCH",
            "/api/group/v1/update",
            sunbird,
            {"request": {"groupId": group, "members": {"remove": [learner]}}},
            refused=PARTIAL,
        )
        yield _json(
            "sunbird membership visited",
            "PATCH",
            "/api/group/membership/v1/update",
            sunbird,
            {"request": {"userId": world.admin_id, "groups": [{"groupId": group, "visited": turn % 2 == 0}]}},
        )
        yield _json("native group update", "PATCH", f"/api/v1/groups/{group}/", admin, {"description": f"turn {turn}"})
        status, body = yield _json(
            "sunbird create",
            "POST",
            "/api/group/v1/create",
            creator,
            {"request": {"name": f"Soak {client}-{turn}"}},
            refused=PARTIAL,
        )
        if status == 200:
            created = json.loads(body)["result"]["groupId"]
            yield _json("sunbird delete", "POST", "/api/group/v1/delete", creator, {"request": {"groupId": created}})
        native_creator = {"Authorization": f"Token {world.creator_keys[client]}"}
        status, body = yield _json("native group create", "POST", "/api/v1/groups/", native_creator,
                                   {"name": f"Soak native {client}-{turn}"}, expect=(201,))  # fmt: skip
        if status == 201:
            created = json.loads(body)["id"]
            yield Call("native group delete", "DELETE", f"/api/v1/groups/{created}/", native_creator, expect=(204,))
        other = world.learners[-1 - (client * 7 + turn) % (len(world.learners) // 2)]
        status, body = yield _json("native membership create", "POST", "/api/v1/memberships/", admin,
                                   {"group": group, "user": other}, expect=(201,))  # fmt: skip
        if status == 201:
            membership = json.loads(body)["id"]
            yield Call("native membership delete", "DELETE", f"/api/v1/memberships/{membership}/", admin, expect=(204,))
        yield Call("v0 ingest events", "POST", "/api/v0/ingest/events", admin, world.event_lines)
        yield Call("datasets sessions ingest", "POST", "/api/v1/datasets/sessions/", admin, world.session_lines)


def rss_kb(master: int) -> tuple[int, int]:
    """The resident memory of the gunicorn master and its workers (its child processes), in KiB, and how many
    processes that is; read from /proc."""
    pids = [master]
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry.name))
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return total, len(pids)


@dataclass
class SoakReport:
    warmup_seconds: float
    clients: int
    run: Figures  # warm-up and measured time, one continuous load
    rss_start_kb: int  # when the warm-up ends
    rss_end_kb: int
    rss_peak_kb: int  # of the samples taken every few seconds after the warm-up
    processes: int
    growth_at_most: float

    @property
    def warmup(self) -> Figures:
        return self.run.between(0, self.warmup_seconds)

    @property
    def measured(self) -> Figures:
        return self.run.between(self.warmup_seconds, self.run.seconds)

    @property
    def growth(self) -> float:
        return self.rss_end_kb / self.rss_start_kb - 1

    @property
    def errors(self) -> int:
        return self.run.errors

    @property
    def holds(self) -> bool:
        return self.errors == 0 and self.growth <= self.growth_at_most


def soak_run(*, seconds: float, clients: int, warmup: float, growth_at_most: float, seed: bool = True) -> SoakReport:
    """Seed the demo data (idempotent), start gunicorn and drive the mix for `warmup` + `seconds` in one load (a
    client's writes are never cut between two loads), taking the servers' memory when the warm-up ends, every few
    seconds after, and at the end. Side effects: the demo data, and the soak's own users, keys and pool groups
    (kept for the next run); the groups it creates are removed."""
    if seed:
        call_command("seed_demo", verbosity=0)
    _created_groups_purge()
    world = _world(clients=clients)
    SOAK_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = serve(port, log=SOAK_DIR / "gunicorn.log")
    memory: dict[str, int] = {}
    done = threading.Event()

    def sample() -> None:
        if done.wait(warmup):
            return
        memory["start"], memory["processes"] = rss_kb(server.pid)
        memory["peak"] = memory["start"]
        while not done.wait(5):
            memory["peak"] = max(memory["peak"], rss_kb(server.pid)[0])

    sampler = threading.Thread(target=sample)
    try:
        sampler.start()
        run = load(port, lambda client: _calls(world, client), seconds=warmup + seconds, clients=clients)
        memory["end"] = rss_kb(server.pid)[0]
    finally:
        done.set()
        sampler.join()
        server.terminate()
        server.wait(timeout=30)
        _created_groups_purge()
    return SoakReport(
        warmup, clients, run, memory["start"], memory["end"], max(memory["peak"], memory["end"]),
        memory["processes"], growth_at_most,
    )  # fmt: skip


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |" for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def report_tables(report: SoakReport) -> str:
    """Per endpoint (requests, p50, p99), then the summary: requests, errors, p50, p99, memory at start and end."""
    measured = report.measured
    per_call = [["call", "requests", "p50 ms", "p99 ms"]]
    for name, figures in measured.by_name.items():
        per_call.append(
            [name, str(len(figures.latencies)), f"{figures.percentile_ms(0.5):g}", f"{figures.percentile_ms(0.99):g}"]
        )
    mb = 1024
    summary = [
        [
            "seconds",
            "clients",
            "requests",
            "req/s",
            "errors",
            "p50 ms",
            "p99 ms",
            "RSS start MB",
            "RSS end MB",
            "RSS peak MB",
            "growth",
            "holds",
        ],
        [
            f"{measured.seconds:g}",
            str(report.clients),
            str(len(measured.latencies)),
            f"{measured.rps:.0f}",
            str(report.errors),
            f"{measured.percentile_ms(0.5):g}",
            f"{measured.percentile_ms(0.99):g}",
            f"{report.rss_start_kb / mb:.1f}",
            f"{report.rss_end_kb / mb:.1f}",
            f"{report.rss_peak_kb / mb:.1f}",
            f"{report.growth:+.1%} (<= {report.growth_at_most:.0%})",
            "yes" if report.holds else "NO",
        ],
    ]
    return f"{_table(per_call)}\n\n{_table(summary)}"


def report_write(report: SoakReport) -> Path:
    path = SOAK_DIR / "latest.json"
    measured = report.measured
    payload = {
        "finished": datetime.now(UTC).isoformat(),
        "run": str(uuid.uuid4()),
        "seconds": measured.seconds,
        "warmup_seconds": report.warmup_seconds,
        "clients": report.clients,
        "requests": len(measured.latencies),
        "warmup_requests": len(report.warmup.latencies),
        "errors": report.errors,
        "p50_ms": measured.percentile_ms(0.5),
        "p99_ms": measured.percentile_ms(0.99),
        "rss_kb": {
            "start": report.rss_start_kb,
            "end": report.rss_end_kb,
            "peak": report.rss_peak_kb,
            "processes": report.processes,
        },
        "failures": [vars(failure) for failure in report.run.failures[:FAILURES_SHOWN]],
    }
    path.write_text(json.dumps(payload, indent=2))
    return path
