"""PostgreSQL restarted under a served Tally and under a running job (a cluster of the test's own): requests that
meet the outage get a 503 in their dialect's shape, later ones succeed with no restart of Tally, and the job is
retried until it completes."""

import os
import subprocess
import sys
from datetime import date

import psycopg
import pytest
import requests
from django.conf import settings

from apps.common.services import ABANDONED
from apps.common.testing.fixtures import celery_worker_start, gunicorn_served, wait_for
from apps.course_analytics.demo import tracking_log_lines
from apps.course_analytics.tasks import rollup_day

pytestmark = [pytest.mark.postgres]

CKAN_QUERY = {"query": [{"query_group": [{"state": "active"}]}], "start_date": "2024-01-01",
              "end_date": "2024-12-31", "date_field": "created"}  # fmt: skip


def _manage(database_url: str, *arguments: str) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url}
    env.pop("CELERY_BROKER_URL", None)
    done = subprocess.run([sys.executable, "manage.py", *arguments], env=env, cwd=settings.BASE_DIR,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout


def _calls(url: str, key: str) -> dict[str, requests.Response]:
    token = {"Authorization": f"Token {key}"}
    return {
        "native": requests.get(f"{url}/api/v1/groups/", headers=token, timeout=30),
        "ckan": requests.post(
            f"{url}/api/3/action/get_group_count", json=CKAN_QUERY, timeout=30, headers={"X-CKAN-API-Key": key}
        ),
        "newspark-json": requests.get(f"{url}/services/json/groups/getGroups?vhost=1", headers=token, timeout=30),
        "newspark-xml": requests.get(f"{url}/services/rest/groups/getGroups?vhost=1", headers=token, timeout=30),
    }


def _unavailable_in_its_shape(dialect: str, response: requests.Response) -> bool:
    if response.status_code != 503 or response.headers.get("Retry-After") != "5":
        return False
    if dialect == "newspark-xml":
        return b"<error>" in response.content
    body = response.json()
    return {
        "native": lambda: body["code"] == "service_unavailable",
        "ckan": lambda: body["success"] is False and body["error"]["__type"] == "Service Unavailable",
        "newspark-json": lambda: body["status"] is False and "code" in body["error"],
    }[dialect]()


def test_requests_during_a_restart_get_503s_in_their_shape_and_later_ones_succeed(private_postgres):
    key = _manage(private_postgres.url, "create_api_key", "--username", "ops", "--sysadmin").splitlines()[-1]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": private_postgres.url}
    env.pop("CELERY_BROKER_URL", None)
    env.pop("TALLY_CACHE_URL", None)
    with gunicorn_served(env, workers=1, threads=1) as (url, server):
        before = _calls(url, key)
        private_postgres.stop()
        during = _calls(url, key)
        health = requests.get(f"{url}/healthz", timeout=30)
        private_postgres.start()
        first_after = _calls(url, key)
        after = _calls(url, key)
        server_pid_alive = server.poll() is None

    assert {name: response.status_code for name, response in before.items()} == dict.fromkeys(before, 200)
    assert [name for name, response in during.items() if not _unavailable_in_its_shape(name, response)] == []
    assert (health.status_code, health.json()["checks"]["database"]) == (503, "down")
    assert {name: response.status_code for name, response in first_after.items()} == dict.fromkeys(before, 200)
    assert {name: response.content for name, response in after.items()} == {
        name: response.content for name, response in before.items()
    }
    assert server_pid_alive


@pytest.mark.broker
def test_a_job_cut_by_a_restart_is_retried_until_it_completes(private_postgres, private_broker, tmp_path):
    log = tmp_path / "tracking.log"
    day = "2026-03-08"
    lines = tracking_log_lines(
        course_ids=["course-v1:TallyX+OPS+2026"], learners=40, start=date.fromisoformat(day), days=1
    )
    log.write_text("\n".join(lines) + "\n")
    _manage(private_postgres.url, "ingest_tracking_logs", str(log))
    queue = f"test-{os.urandom(4).hex()}"
    worker = celery_worker_start(queue, broker_url=private_broker.url, DATABASE_URL=private_postgres.url)
    database = private_postgres.url.replace("postgres://", "postgresql://", 1)
    try:
        # Another session holds a rollup table, so that the job is mid-way when the database goes down.
        blocker = psycopg.connect(database)
        blocker.execute("LOCK TABLE course_analytics_videosummary IN ACCESS EXCLUSIVE MODE")
        rollup_day.apply_async(args=[day], queue=queue)
        waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass"
        assert wait_for(lambda: blocker.execute(waiting, ["course_analytics_videosummary"]).fetchone()[0] > 0)
        private_postgres.stop()
        blocker.close()
        private_postgres.start()

        def runs() -> list[tuple[str, str]]:
            with psycopg.connect(database) as connection:
                query = "SELECT status, error FROM common_jobrun WHERE kind = %s AND key = %s ORDER BY id"
                return connection.execute(query, ["course_analytics.rollup", day]).fetchall()

        assert wait_for(lambda: runs()[-1:] == [("succeeded", "")], seconds=120), runs()
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    with psycopg.connect(database) as connection:
        enrolled = connection.execute("SELECT count(*) FROM course_analytics_enrollmentdaily").fetchone()[0]
    assert runs() == [("failed", ABANDONED), ("succeeded", "")]
    assert enrolled == 1
