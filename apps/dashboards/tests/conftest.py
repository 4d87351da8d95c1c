from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from apps.common.models import JobRun, User
from apps.common.testing.factories import SysadminFactory, api_key_for
from apps.course_analytics.selectors import tracking_events_days
from apps.course_analytics.services.rollups import ROLLUP_KIND
from apps.datasets.demo import DEMO_DATASET_ID
from apps.groups.models import Group
from config.celery import app as celery_app

STAFF_PASSWORD = "secret-pass-123"  # SysadminFactory's
COURSE_ID = "course-v1:TallyX+MATH101+2026_T1"


@dataclass(frozen=True)
class Demo:
    staff: User
    staff_key: str
    group: Group
    a_class: Group
    member: User
    event_store: str
    last_day: date  # the demo's days end yesterday as of its seeding: the tests' dates are counted back from it

    def window(self, *, days: int) -> dict[str, str]:
        """The last `days` days of the demo, as a page's query (the end is exclusive, as the v0 API's)."""
        end = self.last_day + timedelta(days=1)
        return {"start": (end - timedelta(days=days)).isoformat(), "end": end.isoformat()}

    def urls(self) -> dict[str, str]:
        """Every dashboard page, by name, on the demo data."""
        csv = {"course_id": COURSE_ID, "figure": "enrollment"}
        return {
            "index": reverse("admin:index"),
            "courses": reverse("admin:dashboards-courses"),
            "course": reverse("admin:dashboards-course", kwargs={"course_id": COURSE_ID}),
            "course-csv": reverse("admin:dashboards-course-csv", kwargs=csv),
            "groups": reverse("admin:dashboards-groups"),
            "group": reverse("admin:dashboards-group", kwargs={"group_id": self.group.public_id}),
            "class": reverse("admin:dashboards-group", kwargs={"group_id": self.a_class.public_id}),
            "member": reverse("admin:dashboards-member", kwargs={"user_id": self.member.public_id}),
            "datasets": reverse("admin:dashboards-datasets"),
            "dataset": reverse("admin:dashboards-dataset", kwargs={"dataset_id": DEMO_DATASET_ID}),
            "jobs": reverse("admin:dashboards-jobs"),
            "job": reverse("admin:dashboards-job", kwargs={"kind": ROLLUP_KIND}),
        }


@contextmanager
def tasks_run_in_process() -> Iterator[None]:
    """Celery tasks run in the caller's process and transaction, as `make run` runs them with no broker (the worker
    path has its own test)."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = eager


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Demo]:
    """The demo data of `make run` (seed_demo, its tasks run in process), committed once for a module's tests and
    flushed after them. Its tracking log goes to an event store of the module's own, so that a second module's
    seeding ingests it again."""
    store = str(tmp_path_factory.mktemp("demo-events"))
    with override_settings(TRACKING_EVENT_STORE=store), django_db_blocker.unblock():
        try:
            with tasks_run_in_process():  # the demo dataset is built as `make run` builds it
                call_command("seed_demo", verbosity=0)
            assert JobRun.objects.filter(kind=ROLLUP_KIND).exists()
            group = Group.objects.filter(parent__isnull=False, children__isnull=False).order_by("id").first()
            member = group.children.order_by("id").first().memberships.order_by("id").first().user
            a_class = group.children.filter(activities__activity_id=COURSE_ID).order_by("id").first()
            staff = SysadminFactory(username="staff")
            yield Demo(
                staff=staff,
                staff_key=api_key_for(staff),
                group=group,
                a_class=a_class,
                member=member,
                event_store=store,
                last_day=tracking_events_days()[-1],
            )
        finally:
            # Whatever happened, later modules must find the empty database they expect.
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def tracking_event_store(request, settings, monkeypatch):
    """The demo's event store for the tests of pages over the demo data (as `make run` serves them), an empty one of
    the test's own for the others."""
    if "demo" in request.fixturenames:
        store = request.getfixturevalue("demo").event_store
    else:
        store = str(request.getfixturevalue("tmp_path"))
    settings.TRACKING_EVENT_STORE = store
    monkeypatch.setenv("TALLY_EVENT_STORE", store)
    return store
