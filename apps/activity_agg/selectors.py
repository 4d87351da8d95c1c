"""Reads of the activity aggregator: who is enrolled (from course_analytics), and a group's aggregate for one
activity or all of them, as plain data (the API's serializers own the wire format)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from django.utils import timezone

from apps.activity_agg import cache
from apps.activity_agg.models import ActivityAggregate
from apps.common.exceptions import PermissionDeniedError
from apps.common.models import User
from apps.course_analytics.services.rollups import enrollment_states
from apps.groups.models import Activity, Group, members_visible_to
from apps.groups.selectors import group_activities, group_get, group_members


def enrolled_learners(*, course_ids: list[str]) -> pl.DataFrame:
    """(course_id, lms_user_id) of the learners enrolled now in these courses, from the enrollment state that
    course_analytics computes: its learner-state table up to yesterday and today's enrollment events (the last
    activation or deactivation decides). Call learner_states_build(last=yesterday) first for late events."""
    today = timezone.now().date()
    states = enrollment_states(first=today, last=today, course_ids=course_ids)
    now_enrolled = (pl.col("date") == today) & (pl.col("at_end") == 1)
    return states.filter(now_enrolled).select("course_id", "lms_user_id")


@dataclass(frozen=True)
class MetricValue:
    metric: str
    value: float
    last_updated: datetime | None


@dataclass(frozen=True)
class MemberAgg:
    """An active member of the group who is enrolled in the activity, with their metrics (sorted by name, then
    username: members without a name come first, by username)."""

    user_id: uuid.UUID
    name: str
    username: str
    role: str
    status: str
    created_by: uuid.UUID | None
    metrics: tuple[MetricValue, ...]

    @property
    def by_metric(self) -> dict[str, float]:
        """Each metric's value by its name."""
        return {metric.metric: metric.value for metric in self.metrics}


@dataclass(frozen=True)
class ActivityAgg:
    """A group's aggregate for one activity: `enrolment_count` enrolled active members; `last_updated` the latest
    of their metrics' times (None when there is none)."""

    group_id: uuid.UUID
    activity_id: str
    activity_type: str
    enrolment_count: int
    last_updated: datetime | None
    members: tuple[MemberAgg, ...]


@dataclass(frozen=True)
class GroupAgg:
    """What a group's cached aggregate holds: the ids of its active members (who may read it) and the aggregate."""

    member_ids: frozenset[int]
    agg: ActivityAgg


def _agg_memberships(group: Group) -> list:
    return list(group_members(group=group, reader=None).select_related(None).select_related("user", "created_by"))


def _activity_agg(*, group: Group, activity_id: str, activity_type: str, memberships: list, rows) -> ActivityAgg:
    """The aggregate of one activity from the group's active `memberships` and the activity's aggregate `rows` of
    their users (by metric)."""
    metrics: dict[int, list[MetricValue]] = {}
    for row in rows:
        metrics.setdefault(row.user_id, []).append(MetricValue(row.metric, row.value, row.last_updated))
    members = tuple(
        sorted(
            (
                MemberAgg(
                    user_id=m.user.public_id,
                    name=f"{m.user.first_name} {m.user.last_name}".strip(),
                    username=m.user.get_username(),
                    role=m.role,
                    status=m.status,
                    created_by=m.created_by.public_id if m.created_by else None,
                    metrics=tuple(metrics[m.user_id]),
                )
                for m in memberships
                if m.user_id in metrics
            ),
            key=lambda member: (member.name, member.username),
        )
    )
    times = [metric.last_updated for member in members for metric in member.metrics if metric.last_updated]
    return ActivityAgg(
        group_id=group.public_id,
        activity_id=activity_id,
        activity_type=activity_type,
        enrolment_count=len(members),
        last_updated=max(times, default=None),
        members=members,
    )


def _group_activity_agg(*, group: Group, activity_id: str, activity_type: str, listed: bool) -> GroupAgg:
    """In three queries: the group's activity (unless the caller `listed` it from the group), its active members
    with their users, and their aggregate rows."""
    memberships = _agg_memberships(group)
    is_activity = (
        listed or Activity.objects.filter(group=group, activity_id=activity_id, activity_type=activity_type).exists()
    )
    rows = (
        ActivityAggregate.objects.filter(
            activity_id=activity_id, activity_type=activity_type, user_id__in=[m.user_id for m in memberships]
        ).order_by("metric")
        if is_activity
        else []
    )
    agg = _activity_agg(
        group=group, activity_id=activity_id, activity_type=activity_type, memberships=memberships, rows=rows
    )
    return GroupAgg(member_ids=frozenset(m.user_id for m in memberships), agg=agg)


def group_activities_progress(*, group: Group, activities: list[Activity]) -> list[ActivityAgg]:
    """The aggregate of each of the group's `activities`, read as stored (not from the cache) in two queries
    whatever their number: for staff pages, which need no member check."""
    if not activities:
        return []
    memberships = _agg_memberships(group)
    rows = ActivityAggregate.objects.filter(
        activity_id__in={activity.activity_id for activity in activities},
        user_id__in=[m.user_id for m in memberships],
    ).order_by("metric")
    by_activity: dict[tuple[str, str], list[ActivityAggregate]] = {}
    for row in rows:
        by_activity.setdefault((row.activity_id, row.activity_type), []).append(row)
    return [
        _activity_agg(
            group=group,
            activity_id=activity.activity_id,
            activity_type=activity.activity_type,
            memberships=memberships,
            rows=by_activity.get((activity.activity_id, activity.activity_type), []),
        )
        for activity in activities
    ]


def _require_member(*, actor: User, member_ids: frozenset[int]) -> None:
    if not members_visible_to(actor, active_member_ids=member_ids):
        raise PermissionDeniedError("Only the group's members may read its aggregates.", code="not_group_member")


def group_activity_agg(*, actor: User, group_id: uuid.UUID | str, activity_id: str, activity_type: str) -> ActivityAgg:
    """The aggregate of one activity of an existing group, for a member of the group (or staff).

    Only the group's active members who are enrolled are listed; an activity the group does not have, or nobody
    is enrolled in, has none. Served from the cache while neither the group nor the activity's figures changed.
    Raises NotFoundError (no such group) or PermissionDeniedError (the actor is not a member).
    """
    group_agg = cache.cached_group_agg(
        group_id=group_id,
        activity_id=activity_id,
        activity_type=activity_type,
        compute=lambda: _group_activity_agg(
            group=group_get(group_id=group_id), activity_id=activity_id, activity_type=activity_type, listed=False
        ),
    )
    _require_member(actor=actor, member_ids=group_agg.member_ids)
    return group_agg.agg


@dataclass(frozen=True)
class GroupAggs:
    group_id: uuid.UUID
    activities: list[ActivityAgg]


def group_aggs(*, actor: User, group_id: uuid.UUID | str, activity_id: str | None = None) -> GroupAggs:
    """The aggregate of every activity of an existing group (or of `activity_id` only), in the order they were
    added (see group_activity_agg); the group is read once for them all."""
    group = group_get(group_id=group_id)
    activities = group_activities(group=group)
    if activity_id is not None:
        activities = activities.filter(activity_id=activity_id)
    aggs = []
    for activity in activities:
        group_agg = cache.cached_group_agg(
            group_id=str(group.public_id),
            activity_id=activity.activity_id,
            activity_type=activity.activity_type,
            compute=lambda activity=activity: _group_activity_agg(
                group=group, activity_id=activity.activity_id, activity_type=activity.activity_type, listed=True
            ),
        )
        _require_member(actor=actor, member_ids=group_agg.member_ids)
        aggs.append(group_agg.agg)
    if not aggs:
        member_ids = frozenset(group_members(group=group, reader=None).values_list("user_id", flat=True))
        _require_member(actor=actor, member_ids=member_ids)
    return GroupAggs(group_id=group.public_id, activities=aggs)
