"""The staff pages through Django's test client: who may see them, what they show, their CSVs, their query counts."""

import pytest
from django.urls import reverse

from apps.activity_agg.selectors import group_aggs
from apps.common.models import JobRun
from apps.common.testing.factories import UserFactory
from apps.course_analytics.models import LearnerProfile
from apps.course_analytics.selectors import tracking_events_count
from apps.course_analytics.services.rollups import ROLLUP_KIND
from apps.dashboards.figures import COURSE_FIGURES
from apps.dashboards.tests.conftest import COURSE_ID, tasks_run_in_process
from apps.datasets.demo import DEMO_DATASET_ID
from apps.groups.models import Membership
from apps.groups.selectors import group_queryset

pytestmark = pytest.mark.django_db


def test_landing_page_says_what_tally_is_and_links_its_parts(client):
    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Groups of learners and the analytics about them" in html
    for name in ("admin:index", "swagger-ui", "redoc", "healthz"):
        assert f'href="{reverse(name)}"' in html


@pytest.mark.parametrize("who", ["anonymous", "non-staff"])
def test_every_dashboard_page_sends_anyone_but_staff_to_the_admin_login(client, demo, who):
    if who == "non-staff":
        client.force_login(UserFactory())
    rerun = reverse("admin:dashboards-job-rerun", kwargs={"kind": ROLLUP_KIND})
    runs = JobRun.objects.count()

    responses = {name: client.get(url) for name, url in demo.urls().items()}
    responses["rerun"] = client.post(rerun, {"key": "2026-01-01"})

    for name, response in responses.items():
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("admin:login")), name
    assert JobRun.objects.count() == runs


def test_admin_is_tally_and_names_its_entries_for_people(client, demo):
    client.force_login(demo.staff)

    response = client.get(reverse("admin:index"))

    html = response.content.decode()
    names = [model["name"] for app in response.context["app_list"] for model in app["models"]]
    assert "<title>Dashboard | Tally</title>" in html
    assert "Django administration" not in html
    assert names.count("Groups") == 1
    assert {"Permission groups", "Video summaries", "Daily enrollment", "Weekly activity", "Activities"} <= set(names)
    assert not [name for name in names if name.endswith(("rys", "lys"))]  # summarys, dailys
    assert "auth" not in {app["app_label"] for app in response.context["app_list"]}


def test_index_shows_the_platform_totals_each_linking_to_its_detail(client, demo):
    client.force_login(demo.staff)

    totals = client.get(reverse("admin:index")).context["totals"]
    html = client.get(reverse("admin:index")).content.decode()

    assert totals.groups == group_queryset().count()
    assert totals.learners == LearnerProfile.objects.count()
    assert totals.events == tracking_events_count()
    assert totals.last_rollup == JobRun.objects.filter(kind=ROLLUP_KIND).first()
    assert totals.failed_jobs == 0
    for link in (
        reverse("admin:dashboards-groups"),
        reverse("admin:groups_membership_changelist") + "?status__exact=active",
        reverse("admin:course_analytics_learnerprofile_changelist"),
        reverse("course_analytics_tracking_events"),
        reverse("admin:dashboards-job", kwargs={"kind": ROLLUP_KIND}),
        reverse("admin:common_jobrun_changelist") + "?status__exact=failed",
    ):
        assert f'href="{link}"' in html


# Each page reads a fixed number of queries whatever the data: session, user, then its own reads.
QUERY_COUNTS = {
    "index": 8,  # the events ingested are counted in the event store, not the database
    "courses": 3,
    "course": 11,
    "course-csv": 4,
    "groups": 3,
    "group": 8,  # members behind the visibility rule
    "class": 11,  # and for its activities: which have course figures, the members and their progress
    "member": 4,
    "datasets": 3,
    # The dataset with its job, and the node's file; two levels down one more (the files above it), at a leaf one more
    # (its Tally users).
    "dataset": 4,
    "jobs": 3,
    "job": 4,
}


@pytest.mark.parametrize(("page", "queries"), QUERY_COUNTS.items())
def test_each_page_answers_within_its_pinned_query_count(client, demo, django_assert_num_queries, page, queries):
    client.force_login(demo.staff)
    url = demo.urls()[page]

    with django_assert_num_queries(queries):
        response = client.get(url)

    assert response.status_code == 200


def test_course_page_names_the_window_by_its_first_and_last_day_shown(client, demo):
    client.force_login(demo.staff)
    window = demo.window(days=7)

    html = client.get(reverse("admin:dashboards-course", kwargs={"course_id": COURSE_ID}), window).content.decode()

    assert f"showing {window['start']} to {demo.last_day.isoformat()}." in html
    assert f'name="end" value="{window["end"]}"' in html


@pytest.mark.parametrize("figure", [figure.slug for figure in COURSE_FIGURES])
def test_every_course_csv_is_the_v0_api_csv_of_the_same_window(client, api_client, demo, figure):
    client.force_login(demo.staff)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {demo.staff_key}")
    endpoint = {"cumulative": "enrollment/mode", "enrollment_mode": "enrollment/mode"}.get(figure, figure)
    endpoint = {"birth_year": "enrollment/birth_year", "education": "enrollment/education"}.get(endpoint, endpoint)
    endpoint = {"gender": "enrollment/gender", "location": "enrollment/location"}.get(endpoint, endpoint)
    window = demo.window(days=31)

    ours = client.get(reverse("admin:dashboards-course-csv", kwargs={"course_id": COURSE_ID, "figure": figure}), window)
    api = api_client.get(
        f"/api/v0/courses/{COURSE_ID}/{endpoint}.csv", {"start_date": window["start"], "end_date": window["end"]}
    )

    assert (ours.status_code, api.status_code) == (200, 200)
    assert ours.content == api.content
    assert ours.content.count(b"\r\n") > 1


@pytest.mark.parametrize(
    ("query", "status"),
    [({"start": "yesterday"}, 400), ({"start": "2026-11-01", "end": "2026-10-01"}, 400), ({"end": "2026-13-01"}, 400)],
)
def test_a_bad_window_is_a_400_on_the_page_and_its_csv(client, demo, query, status):
    client.force_login(demo.staff)
    urls = demo.urls()

    assert client.get(urls["course"], query).status_code == status
    assert client.get(urls["course-csv"], query).status_code == status


def test_unknown_things_are_404(client, demo):
    client.force_login(demo.staff)

    for url in (
        reverse("admin:dashboards-course", kwargs={"course_id": "course-v1:No+Such+Course"}),
        reverse("admin:dashboards-course-csv", kwargs={"course_id": COURSE_ID, "figure": "nonsense"}),
        reverse("admin:dashboards-group", kwargs={"group_id": "not-a-uuid"}),
        reverse("admin:dashboards-member", kwargs={"user_id": "00000000-0000-0000-0000-000000000000"}),
        reverse("admin:dashboards-job", kwargs={"kind": "no.such.job"}),
    ):
        assert client.get(url).status_code == 404, url


@pytest.fixture
def tasks_in_process():
    with tasks_run_in_process():
        yield


def test_rerun_queues_the_job_of_that_key_again(client, demo, tasks_in_process):
    client.force_login(demo.staff)
    job = reverse("admin:dashboards-job", kwargs={"kind": ROLLUP_KIND})
    key = demo.last_day.isoformat()

    response = client.post(reverse("admin:dashboards-job-rerun", kwargs={"kind": ROLLUP_KIND}), {"key": key})

    assert response.status_code == 302
    assert response["Location"] == job
    latest = JobRun.objects.filter(kind=ROLLUP_KIND).first()
    assert (latest.key, latest.status) == (key, JobRun.Status.SUCCEEDED)
    assert "queued again" in client.get(job).content.decode()


@pytest.mark.parametrize(("kind", "key"), [("test.unknown", "2026-11-02"), (ROLLUP_KIND, "yesterday")])
def test_rerun_of_what_cannot_be_rerun_says_why_and_runs_nothing(client, demo, kind, key):
    client.force_login(demo.staff)
    JobRun.objects.create(kind="test.unknown", key="2026-11-02")
    runs = JobRun.objects.count()

    response = client.post(reverse("admin:dashboards-job-rerun", kwargs={"kind": kind}), {"key": key}, follow=True)

    assert JobRun.objects.count() == runs
    assert [message.level_tag for message in response.context["messages"]] == ["error"]


def test_rerun_needs_the_permission_to_change_job_runs(client, demo):
    client.force_login(UserFactory(is_staff=True))

    response = client.post(reverse("admin:dashboards-job-rerun", kwargs={"kind": ROLLUP_KIND}), {"key": "2026-11-02"})

    assert response.status_code == 403


def test_group_page_places_the_group_in_its_tree_and_links_its_courses(client, demo):
    client.force_login(demo.staff)
    response = client.get(demo.urls()["class"])

    ancestors = response.context["ancestors"]
    assert ancestors[-1] == demo.group
    assert ancestors[0].parent_id is None
    assert [group.parent_id for group in ancestors[1:]] == [group.pk for group in ancestors[:-1]]
    course_page = reverse("admin:dashboards-course", kwargs={"course_id": COURSE_ID})
    assert f'href="{course_page}"' in response.content.decode()


def test_group_page_shows_each_activity_s_enrolled_members_with_the_aggregator_s_figures(client, demo):
    client.force_login(demo.staff)
    response = client.get(demo.urls()["class"])

    served = group_aggs(actor=demo.staff, group_id=demo.a_class.public_id)
    shown = response.context["activities"]
    assert [agg.activity_id for agg in shown] == [agg.activity_id for agg in served.activities]
    assert shown == served.activities
    course = next(agg for agg in shown if agg.activity_id == COURSE_ID)
    assert course.enrolment_count > 0
    assert [member.username for member in course.members] == sorted(member.username for member in course.members)
    html = response.content.decode()
    for member in course.members:
        assert reverse("admin:dashboards-member", kwargs={"user_id": member.user_id}) in html
        assert {"completedCount", "progress", "score"} == set(member.by_metric)


def _dataset_page(client, demo, **query):
    return client.get(reverse("admin:dashboards-dataset", kwargs={"dataset_id": DEMO_DATASET_ID}), query)


def test_dataset_page_drills_down_from_the_root_to_a_class_and_its_learners(client, demo, django_assert_num_queries):
    client.force_login(demo.staff)

    root = _dataset_page(client, demo).context
    department = root["node"].rows[0]
    with django_assert_num_queries(QUERY_COUNTS["dataset"]):
        below = _dataset_page(client, demo, node=department["group_id"]).context
    a_class = below["node"].rows[0]
    with django_assert_num_queries(QUERY_COUNTS["dataset"] + 2):
        leaf = _dataset_page(client, demo, node=a_class["group_id"]).context

    assert root["job_status"] == "completed"
    assert root["node"].path == []
    assert not root["node"].of_users
    assert sum(row["population"] for row in root["node"].rows) == root["node"].own["population"]
    assert below["node"].path == [department["group_name"]]
    assert leaf["node"].ancestors == [(department["group_id"], department["group_name"])]
    assert leaf["node"].of_users
    assert len(leaf["node"].rows) == a_class["population"]
    members = Membership.objects.active().filter(group__name=a_class["group_name"])
    learners = {str(public_id) for public_id in members.values_list("user__public_id", flat=True)}
    assert {row["user_id"] for row in leaf["node"].rows} <= learners
    assert set(leaf["node"].users) == {row["user_id"] for row in leaf["node"].rows}
    assert [panel.slug for panel in leaf["panels"]] == ["node"]


def test_dataset_page_refuses_a_node_or_page_it_does_not_have(client, demo):
    client.force_login(demo.staff)

    assert _dataset_page(client, demo, node="00000000000000000000").status_code == 404
    assert _dataset_page(client, demo, page="2").status_code == 404
    assert _dataset_page(client, demo, page="x").status_code == 404
    missing = reverse("admin:dashboards-dataset", kwargs={"dataset_id": "00000000-0000-4000-8000-000000000000"})
    assert client.get(missing).status_code == 404


def test_dataset_list_shows_each_dataset_with_its_job_status(client, demo):
    client.force_login(demo.staff)

    response = client.get(reverse("admin:dashboards-datasets"))

    assert [dataset.dataset_id for dataset in response.context["datasets"]] == [DEMO_DATASET_ID]
    assert "completed" in response.content.decode()
