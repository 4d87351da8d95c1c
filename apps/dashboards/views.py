"""Staff pages. Each reads through selectors and declares a template; the admin site wraps them (staff only)."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST, require_safe

from apps.activity_agg.selectors import group_activities_progress
from apps.common.api.edx_analytics import EdxCsvRenderer, csv_filename
from apps.common.dates import day_start
from apps.common.exceptions import NotFoundError, ServiceError
from apps.dashboards import selectors
from apps.dashboards.figures import COURSE_FIGURES, FIGURES_BY_SLUG, chart
from apps.dashboards.forms import CourseWindowForm
from apps.dashboards.services import job_run_rerun
from apps.datasets.models import JobStatus
from apps.datasets.selectors import dataset_status
from apps.groups.selectors import group_activities, group_get, group_list_for_member, group_members


@require_safe
def landing(request):
    """What Tally is, and where its parts are. Public."""
    return TemplateResponse(request, "landing.html")


def _page(request, template: str, status: int = 200, **context) -> TemplateResponse:
    return TemplateResponse(
        request, f"dashboards/{template}", {**admin.site.each_context(request), **context}, status=status
    )


@dataclass(frozen=True)
class Panel:
    """A chart on a page, with the same numbers as table rows; `csv` when the page offers them as a download."""

    slug: str
    title: str
    note: str
    chart: dict
    table: list[list]
    csv: bool = False

    @classmethod
    def of(cls, slug: str, title: str, spec: dict, note: str = "", csv: bool = False) -> "Panel":
        columns = [dataset["data"] for dataset in spec["datasets"]]
        table = [[label, *values] for label, *values in zip(spec["labels"], *columns, strict=True)]
        return cls(slug, title, note, spec, table, csv)


STATUS_COLORS = {"succeeded": "#2e7d32", "failed": "#c62828", "running": "#9e9e9e"}


def _course_window(request, course_id: str):
    span = selectors.course_span_get(course_id=course_id)
    if span is None:
        raise Http404("No figures for this course.")
    form = CourseWindowForm(request.GET)
    return span, form, (form.window(span) if form.is_valid() else None)


def course_list(request):
    return _page(request, "course_list.html", title="Courses", courses=selectors.course_spans())


def course_page(request, course_id: str):
    """Every figure of a course over the chosen window; each endpoint is read once even when two figures share it."""
    span, form, window = _course_window(request, course_id)
    if window is None:
        return _page(request, "course.html", status=400, title=course_id, course_id=course_id, form=form, panels=[])
    start, end = window
    rows_by_endpoint = {}
    for figure in COURSE_FIGURES:
        if figure.endpoint not in rows_by_endpoint:
            rows_by_endpoint[figure.endpoint] = figure.rows(
                course_id=course_id, start=day_start(start), end=day_start(end)
            )
    panels = [
        Panel.of(figure.slug, figure.title, figure.build(rows_by_endpoint[figure.endpoint]), figure.note, csv=True)
        for figure in COURSE_FIGURES
        if rows_by_endpoint[figure.endpoint]
    ]
    window_query = f"start={start.isoformat()}&end={end.isoformat()}"
    # The window's end is excluded (as the v0 API's); people read a range by its last day.
    return _page(request, "course.html", title=course_id, course_id=course_id, span=span, form=form, start=start,
                 end=end, last_shown=end - timedelta(days=1), panels=panels, window_query=window_query)  # fmt: skip


def course_csv(request, course_id: str, figure: str):
    """A figure's rows as the v0 API's CSV of the same window (same selector, same renderer)."""
    chosen = FIGURES_BY_SLUG.get(figure)
    if chosen is None:
        raise Http404("No such figure.")
    _, form, window = _course_window(request, course_id)
    if window is None:
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    rows = chosen.rows(course_id=course_id, start=day_start(window[0]), end=day_start(window[1]))
    if not rows:
        raise Http404("No figures in this window.")
    response = HttpResponse(EdxCsvRenderer().render(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{csv_filename(course_id, chosen.slug)}"'
    return response


def group_list(request):
    search = request.GET.get("q", "").strip()
    groups = selectors.group_roots(search=search)
    return _page(request, "group_list.html", title="Groups", groups=groups, search=search,
                 page_rows=selectors.PAGE_ROWS)  # fmt: skip


def group_page(request, group_id: str):
    """A group's place in its tree, its members, and per activity its enrolled members' progress (activity_agg)."""
    try:
        group = group_get(group_id=group_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    activities = list(group_activities(group=group))
    courses = selectors.courses_with_figures(course_ids=[activity.activity_id for activity in activities])
    return _page(request, "group.html", title=group.name, group=group,
                 ancestors=selectors.group_ancestors(group=group), children=selectors.group_children(group=group),
                 members=group_members(group=group, reader=request.user), courses=courses,
                 activities=group_activities_progress(group=group, activities=activities),
                 page_rows=selectors.PAGE_ROWS)  # fmt: skip


def member_page(request, user_id: str):
    member = selectors.member_get(user_id=user_id)
    if member is None:
        raise Http404("No such person.")
    return _page(request, "member.html", title=member.get_username(), member=member,
                 groups=group_list_for_member(user_id=member.public_id))  # fmt: skip


def dataset_list(request):
    return _page(request, "dataset_list.html", title="Datasets", datasets=selectors.dataset_list(),
                 page_rows=selectors.PAGE_ROWS)  # fmt: skip


def dataset_page(request, dataset_id: uuid.UUID):
    """A dataset's job and one page of one node of its hierarchy (`?node=<group_id>&page=<n>`, the root at first):
    the node's own figures, a chart and a table of its child groups (each a link down) or, at the leaves, its users
    (each Tally user a link to their page)."""
    dataset = selectors.dataset_get(dataset_id=dataset_id)
    if dataset is None:
        raise Http404("No such dataset.")
    page_number = request.GET.get("page", "1")
    status = dataset_status(dataset=dataset)
    node = None
    if status == JobStatus.COMPLETED:
        if page_number.isdecimal():
            node = selectors.dataset_node(dataset=dataset, group_id=request.GET.get("node"), page=int(page_number))
        if node is None:
            raise Http404("No such node of this dataset.")
    panels = []
    if node is not None and node.rows:
        field, kind = node.chart_field, "user" if node.of_users else "group"
        labels = [label for label, _, _ in node.figure_rows]
        spec = chart("bar", kind, labels, {field: [row[field] for row in node.rows]}, horizontal=True)
        panels.append(Panel.of("node", f"{field} of each {kind} under it", spec))
    return _page(request, "dataset.html", title=f"Dataset {dataset.dataset_id}", dataset=dataset, node=node,
                 panels=panels, job_status=status)  # fmt: skip


def job_list(request):
    return _page(request, "job_list.html", title="Jobs", kinds=selectors.job_kinds())


def job_page(request, kind: str):
    """A job kind's runs: durations and statuses over time, the latest runs, and a rerun button per run."""
    runs = list(selectors.job_runs(kind=kind))
    if not runs:
        raise Http404("No runs of this kind.")
    by_day = selectors.job_runs_by_day(kind=kind)
    days = sorted({row["day"] for row in by_day})
    runs_per_day = {(row["day"], row["status"]): row["runs"] for row in by_day}
    statuses = sorted({row["status"] for row in by_day})
    oldest_first = runs[::-1]
    seconds = {
        status: [run.duration.total_seconds() if run.status == status and run.duration else 0 for run in oldest_first]
        for status in statuses
    }
    started = [f"{run.started:%Y-%m-%d %H:%M}" for run in oldest_first]
    per_day = {status: [runs_per_day.get((day, status), 0) for day in days] for status in statuses}
    day_labels = [day.isoformat() for day in days]
    panels = [
        Panel.of("durations", "Duration of each run",
                 chart("bar", "started", started, seconds, colors=STATUS_COLORS, stacked=True),
                 f"Seconds, the latest {len(runs)} runs, coloured by status."),
        Panel.of("per-day", "Runs per day by status",
                 chart("bar", "day", day_labels, per_day, colors=STATUS_COLORS, stacked=True),
                 "Every run kept (runs are pruned after 90 days)."),
    ]  # fmt: skip
    return _page(request, "job.html", title=kind, kind=kind, runs=runs, panels=panels)


@require_POST
def job_rerun(request, kind: str):
    if not request.user.has_perm("common.change_jobrun"):
        raise PermissionDenied
    try:
        job_run_rerun(kind=kind, key=request.POST.get("key", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{kind} [{request.POST['key']}] queued again.")
    return redirect("admin:dashboards-job", kind=kind)
