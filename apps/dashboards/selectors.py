"""Reads behind the staff pages. Course figures come from course_analytics' own selectors (the ones the v0 API
serves); this module adds only what the pages need around them: totals, date bounds, tree places and job history.
"""

import uuid
from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate

from apps.common.ids import uuid_or_none
from apps.common.models import JobRun, User
from apps.course_analytics.models import EnrollmentDaily, LearnerProfile
from apps.course_analytics.selectors import tracking_events_count
from apps.course_analytics.services.rollups import ROLLUP_KIND
from apps.datasets.aggregation import KEY_SEPARATOR, NAMING_FIELDS, node_fields
from apps.datasets.models import Dataset, DatasetOutputFile
from apps.datasets.selectors import output_document_read
from apps.groups.models import Group, Membership
from apps.groups.selectors import group_queryset, group_with_counts_queryset

# A tree level can be wide (thousands of children at full scale): a page lists this many and says so.
PAGE_ROWS = 100


@dataclass(frozen=True)
class PlatformTotals:
    groups: int
    members: int
    learners: int
    events: int
    last_rollup: JobRun | None
    failed_jobs: int


def platform_totals() -> PlatformTotals:
    """Existing groups, people who are active members of one, learner profiles, tracking events stored, the latest
    rollup run and the failed job runs kept (runs are pruned after 90 days)."""
    return PlatformTotals(
        groups=group_queryset().count(),
        members=Membership.objects.active().of_existing_groups().values("user_id").distinct().count(),
        learners=LearnerProfile.objects.count(),
        events=tracking_events_count(),
        last_rollup=JobRun.objects.filter(kind=ROLLUP_KIND).order_by("-started").first(),
        failed_jobs=JobRun.objects.filter(status=JobRun.Status.FAILED).count(),
    )


@dataclass(frozen=True)
class CourseSpan:
    course_id: str
    first: date
    last: date


def course_spans() -> list[CourseSpan]:
    """Every course with daily enrollment figures, and the first and last day computed."""
    rows = EnrollmentDaily.objects.values("course_id").annotate(first=Min("date"), last=Max("date"))
    return [CourseSpan(**row) for row in rows.order_by("course_id")]


def course_span_get(*, course_id: str) -> CourseSpan | None:
    """The days computed for one course; None when the course has no figures."""
    bounds = EnrollmentDaily.objects.filter(course_id=course_id).aggregate(first=Min("date"), last=Max("date"))
    return CourseSpan(course_id=course_id, **bounds) if bounds["last"] else None


def courses_with_figures(*, course_ids: list[str]) -> set[str]:
    """Those of `course_ids` that have daily enrollment figures (so a course page to link to)."""
    return set(EnrollmentDaily.objects.filter(course_id__in=course_ids).values_list("course_id", flat=True).distinct())


def group_roots(*, search: str = "") -> QuerySet[Group]:
    """Top-level groups (or, with `search`, any group whose name contains it), with member counts, by name."""
    groups = group_with_counts_queryset(reader=None)
    groups = groups.filter(name__icontains=search) if search else groups.filter(parent__isnull=True)
    return groups.order_by("name", "id")[:PAGE_ROWS]


def group_ancestors(*, group: Group) -> list[Group]:
    """The groups above `group`, from its root down to its parent: one recursive query up the parent links (the
    tree library's ancestors() numbers the whole table first, which a million groups make slow)."""
    table = Group._meta.db_table
    return list(
        Group.objects.raw(
            f"""
            WITH RECURSIVE up (id, parent_id, depth) AS (
                SELECT id, parent_id, 0 FROM {table} WHERE id = %s
                UNION ALL
                SELECT g.id, g.parent_id, up.depth + 1 FROM {table} g JOIN up ON g.id = up.parent_id
            )
            SELECT {table}.* FROM {table} JOIN up ON up.id = {table}.id WHERE up.depth > 0 ORDER BY up.depth DESC
            """,  # the table name is the model's, never input
            [group.pk],
        )
    )


def group_children(*, group: Group) -> QuerySet[Group]:
    """The existing groups directly under `group`, with member counts, by name."""
    return group_with_counts_queryset(reader=None).filter(parent=group).order_by("name", "id")[:PAGE_ROWS]


def member_get(*, user_id: uuid.UUID | str) -> User | None:
    public_id = uuid_or_none(user_id)
    return get_user_model().objects.filter(public_id=public_id).first() if public_id else None


def job_kinds() -> list[dict]:
    """One row per job kind: runs kept, failed runs, and when the latest started."""
    return list(
        JobRun.objects.values("kind")
        .annotate(runs=Count("id"), failed=Count("id", filter=Q(status=JobRun.Status.FAILED)), latest=Max("started"))
        .order_by("kind")
    )


def job_runs(*, kind: str) -> QuerySet[JobRun]:
    """The latest runs of a kind, newest first, each with its `duration` (None while running)."""
    return (
        JobRun.objects.filter(kind=kind)
        .annotate(duration=ExpressionWrapper(F("finished") - F("started"), output_field=DurationField()))
        .order_by("-started")[:PAGE_ROWS]
    )


def job_runs_by_day(*, kind: str) -> list[dict]:
    """Runs of a kind per day they started and status: [{day, status, runs}], oldest day first."""
    return list(
        JobRun.objects.filter(kind=kind)
        .annotate(day=TruncDate("started"))
        .values("day", "status")
        .annotate(runs=Count("id"))
        .order_by("day", "status")
    )


def dataset_list() -> QuerySet[Dataset]:
    """The latest datasets, newest first, with their consumer, job, source group and output files written."""
    return (
        Dataset.objects.select_related("consumer", "job", "group_source")
        .annotate(output_files_count=Count("output_files"))
        .order_by("-created_at", "-id")[:PAGE_ROWS]
    )


def dataset_get(*, dataset_id: uuid.UUID) -> Dataset | None:
    return Dataset.objects.select_related("consumer", "job", "group_source").filter(dataset_id=dataset_id).first()


# What a node's chart shows of its child groups: the first of these that the dataset computes.
GROUP_CHART_FIELDS = ("mean_percent", "mean_score", "population")


@dataclass(frozen=True)
class DatasetNode:
    """One page of a node of a dataset's hierarchy, as its output file holds it: the node's own figures (`own`),
    its rows (child groups, or users at the leaves) as dicts of the file's `fields`, and the nodes above it."""

    group_id: str
    name: str | None
    path: list[str]
    ancestors: list[tuple[str, str]]  # (group_id, name) from the root's child down to the parent
    fields: list[str]
    own: dict
    rows: list[dict]
    page: int
    pages: int
    sort_field: str
    users: dict[str, User]  # the rows' users who are Tally users, by user id (leaves only)

    @property
    def of_users(self) -> bool:
        return self.fields[0] == "user_id"

    @property
    def chart_field(self) -> str:
        """What a chart of the rows shows: the users' sort field at a leaf; else the first of GROUP_CHART_FIELDS the
        dataset computes (the sort field when none)."""
        if self.of_users:
            return self.sort_field
        return next((name for name in GROUP_CHART_FIELDS if name in self.fields), self.sort_field)

    @property
    def figure_fields(self) -> list[str]:
        """The rows' fields after those that name them (user_id; or group_id, group_path, group_name)."""
        return self.fields[1:] if self.of_users else self.fields[len(NAMING_FIELDS) :]

    @property
    def figure_rows(self) -> list[tuple[str, str | None, list]]:
        """Each row as (label, what it links to, its values of figure_fields): a child group's name and group id;
        a user's username and public id when they are a Tally user, else their user id and None."""
        return [(*self._named(row), [row[field] for field in self.figure_fields]) for row in self.rows]

    def _named(self, row: dict) -> tuple[str, str | None]:
        if not self.of_users:
            return row["group_name"], row["group_id"]
        user = self.users.get(row["user_id"])
        return (user.get_username(), row["user_id"]) if user else (row["user_id"], None)

    @property
    def own_figures(self) -> list[tuple[str, object]]:
        return [
            (field, value) for field, value in self.own.items() if field not in ("group_id", "group_path", "group_name")
        ]


def dataset_node(*, dataset: Dataset, group_id: str | None, page: int) -> DatasetNode | None:
    """A page of a node of a built dataset (the root when `group_id` is None); None when there is no such page."""
    files = DatasetOutputFile.objects.filter(dataset=dataset, page=page)
    output_file = (files.filter(group_id=group_id) if group_id else files.filter(key="")).first()
    if output_file is None:
        return None
    document = output_document_read(output_file=output_file)
    path = document["group_path"]
    prefixes = [KEY_SEPARATOR.join(path[:depth]) for depth in range(1, len(path))]
    above = (
        dict(DatasetOutputFile.objects.filter(dataset=dataset, page=1, key__in=prefixes).values_list("key", "group_id"))
        if prefixes
        else {}
    )
    fields = document["fields"]
    rows = [dict(zip(fields, row, strict=True)) for row in document["rows"]]
    users: dict[str, User] = {}
    if fields[0] == "user_id":
        public_ids = [public_id for row in rows if (public_id := uuid_or_none(row["user_id"]))]
        users = {str(user.public_id): user for user in get_user_model().objects.filter(public_id__in=public_ids)}
    return DatasetNode(
        group_id=document["group_id"],
        name=document["group_name"],
        path=path,
        ancestors=[(above[prefix], name) for prefix, name in zip(prefixes, path, strict=False) if prefix in above],
        fields=fields,
        own=dict(zip(node_fields(dataset.spec), document["self"], strict=True)),
        rows=rows,
        page=page,
        pages=max(1, -(-document["rows_total"] // document["rows_per_page"])),
        sort_field=document["sort_field"],
        users=users,
    )
